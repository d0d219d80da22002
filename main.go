//go:build !headless

// Command pgsafe is the PgSafe desktop app and, given a subcommand, its
// headless command line (`pgsafe version`, `pgsafe backup …`; see docs/CLI.md).
package main

import (
	"context"
	"embed"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/mac"
	"github.com/wailsapp/wails/v2/pkg/options/windows"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/cli"
	"github.com/pgsafe/pgsafe/backend/console"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/tray/autostart"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

func main() {
	args := os.Args[1:]
	if cli.IsCommand(args) {
		useParentConsole()
		os.Exit(cli.Run(&cli.Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, args))
	}
	if len(args) > 0 && args[0] == "app" {
		args = args[1:]
	}
	home, err := paths.EnsureHome()
	if err != nil {
		slog.Error("PgSafe's settings directory is not usable", "err", err)
		os.Exit(1)
	}
	exe, err := os.Executable()
	if err != nil {
		slog.Error("PgSafe cannot tell where it is installed", "err", err)
		os.Exit(1)
	}
	agentCmd := []string{agent.Program(exe), "agent"}
	hidden, args := startHidden(args, os.Getenv("PGSAFE_START_HIDDEN"))
	if hidden {
		// `pgsafe app --hidden` is how start at login ran PgSafe before the
		// agent: it now starts the agent (which shows the tray) and no window.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, _, err := agent.Ensure(ctx, home, agentCmd); err != nil {
			slog.Error("PgSafe's agent did not start", "err", err)
			os.Exit(1)
		}
		// Replace that older login item with the agent's, for next time.
		if migrated, err := autostart.Migrate(); err != nil {
			slog.Warn("the older login item was not replaced", "err", err)
		} else if migrated {
			slog.Info("replaced the older login item (pgsafe app --hidden) with the agent's")
		}
		return
	}
	os.Args = append(os.Args[:1], args...)
	if err := runApp(NewApp(home, agentCmd)); err != nil {
		slog.Error("PgSafe stopped with an error", "err", err)
		os.Exit(1)
	}
}

// useParentConsole makes the standard streams of a command run by the
// Windows app (a GUI-subsystem program, which Windows starts without them)
// those of the console it was started from, keeping any the user
// redirected; elsewhere it changes nothing. Started with no console (the
// Run key starts `pgsafe.exe agent --login`), there is nowhere to print:
// the streams stay as they are.
func useParentConsole() {
	std, err := console.AttachParent(console.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return
	}
	os.Stdin, os.Stdout, os.Stderr = std.In, std.Out, std.Err
	log.SetOutput(os.Stderr)
}

// startHidden reads the "start hidden" request of older start-at-login
// entries (`pgsafe app --hidden`; PGSAFE_START_HIDDEN=1 does the same) and
// returns the other arguments (a dev build's Wails flags: -assetdir …).
func startHidden(args []string, env string) (bool, []string) {
	hidden := env == "1" || env == "true"
	rest := make([]string, 0, len(args))
	for _, a := range args {
		if a == "--hidden" || a == "-hidden" {
			hidden = true
			continue
		}
		rest = append(rest, a)
	}
	return hidden, rest
}

// runApp shows the window until it is closed; then the process ends (the
// agent goes on).
func runApp(app *App) error {
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
		OnShutdown:       app.shutdown,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               instanceID,
			OnSecondInstanceLaunch: app.secondInstance,
		},
		Bind: bound(app),
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
