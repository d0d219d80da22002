//go:build !headless

// Command pgsafe is the PgSafe desktop app and, given a subcommand, its
// headless command line (`pgsafe version`, `pgsafe backup …`; see docs/CLI.md).
package main

import (
	"context"
	"embed"
	"log/slog"
	"os"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/mac"
	"github.com/wailsapp/wails/v2/pkg/options/windows"

	"github.com/pgsafe/pgsafe/backend/cli"
	"github.com/pgsafe/pgsafe/backend/ui"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

func main() {
	args := os.Args[1:]
	if cli.IsCommand(args) {
		os.Exit(cli.Run(&cli.Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, args))
	}
	if len(args) > 0 && args[0] == "app" {
		args = args[1:]
	}
	hidden, args := startHidden(args, os.Getenv("PGSAFE_START_HIDDEN"))
	os.Args = append(os.Args[:1], args...)
	if err := runApp(hidden); err != nil {
		slog.Error("PgSafe stopped with an error", "err", err)
		os.Exit(1)
	}
}

// startHidden reads the "start hidden" request (start at login runs
// `pgsafe app --hidden`; PGSAFE_START_HIDDEN=1 does the same). A hidden
// launch's arguments end with --hidden: a dev build's Wails flags (-assetdir
// …) stop parsing at it, and a second instance's arguments, which Wails hands
// to the first, say the launch was a hidden one.
func startHidden(args []string, env string) (bool, []string) {
	hidden := env == "1" || env == "true"
	rest := make([]string, 0, len(args)+1)
	for _, a := range args {
		if a == "--hidden" || a == "-hidden" {
			hidden = true
			continue
		}
		rest = append(rest, a)
	}
	if hidden {
		rest = append(rest, "--hidden")
	}
	return hidden, rest
}

func runApp(hidden bool) error {
	core := ui.NewCore(slog.Default())
	system := ui.NewSystemService(core)
	databases := ui.NewDatabaseService(core)
	activity := ui.NewAuditService(core)
	backups := ui.NewBackupService(core)
	app := NewApp(core, backups, hidden)
	storages := ui.NewStorageService(core)
	restores := ui.NewRestoreService(core)
	notifiers := ui.NewNotifierService(core)
	schedules := ui.NewScheduleService(core)
	return wails.Run(&options.App{
		Title:            "PgSafe",
		Width:            1120,
		Height:           740,
		MinWidth:         900,
		MinHeight:        600,
		StartHidden:      hidden,
		BackgroundColour: &options.RGBA{R: 248, G: 249, B: 250, A: 255},
		AssetServer:      &assetserver.Options{Assets: assets},
		OnStartup:        app.startup,
		OnDomReady:       app.domReady,
		OnBeforeClose:    app.beforeClose, // hides the window while the tray icon is up
		OnShutdown:       app.shutdown,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               instanceID,
			OnSecondInstanceLaunch: app.secondInstance,
		},
		Bind: []interface{}{app, system, databases, activity, backups, storages, restores, notifiers, schedules},
		Linux: &linux.Options{
			Icon:        icon,
			ProgramName: "pgsafe",
		},
		Mac: &mac.Options{
			About: &mac.AboutInfo{Title: "PgSafe", Message: "PostgreSQL backups you can trust.", Icon: icon},
		},
		Windows: &windows.Options{Theme: windows.SystemDefault},
	})
}
