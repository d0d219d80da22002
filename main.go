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
		os.Args = append(os.Args[:1], args[1:]...)
	}
	if err := runApp(); err != nil {
		slog.Error("PgSafe stopped with an error", "err", err)
		os.Exit(1)
	}
}

func runApp() error {
	core := ui.NewCore(slog.Default())
	app := NewApp(core)
	system := ui.NewSystemService(core)
	databases := ui.NewDatabaseService(core)
	activity := ui.NewAuditService(core)
	backups := ui.NewBackupService(core)
	storages := ui.NewStorageService(core)
	restores := ui.NewRestoreService(core)
	return wails.Run(&options.App{
		Title:            "PgSafe",
		Width:            1120,
		Height:           740,
		MinWidth:         900,
		MinHeight:        600,
		BackgroundColour: &options.RGBA{R: 248, G: 249, B: 250, A: 255},
		AssetServer:      &assetserver.Options{Assets: assets},
		OnStartup:        app.startup,
		OnDomReady:       app.domReady,
		OnBeforeClose:    app.beforeClose,
		OnShutdown:       app.shutdown,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               "io.pgsafe.desktop",
			OnSecondInstanceLaunch: app.secondInstance,
		},
		Bind: []interface{}{app, system, databases, activity, backups, storages, restores},
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
