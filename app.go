package main

import (
	"context"
	"log/slog"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/ui"
)

// App holds the desktop app's lifecycle: startup, window close, shutdown.
// Domain work lives in backend/; this only wires it to the window.
type App struct {
	ctx  context.Context
	core *ui.Core
}

// NewApp creates the lifecycle holder.
func NewApp(core *ui.Core) *App { return &App{core: core} }

// startup runs once the window exists. Keep it light: a second instance runs
// it briefly before the single-instance lock hands over and it exits.
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
	dir, err := paths.EnsureHome()
	if err != nil {
		slog.Error("settings directory unavailable", "err", err)
		return
	}
	bi := buildinfo.Get()
	slog.Info("PgSafe started", "version", bi.Version, "commit", bi.Commit, "settings", dir)
	a.core.SetEmitter(func(event string, data any) { runtime.EventsEmit(ctx, event, data) })
	// The key and settings open in the background: a keychain may show its
	// unlock prompt, and the window must not wait for it. The UI asks
	// SystemService.KeyStatus and shows the reason if it failed.
	go a.core.Start(ctx)
}

func (a *App) domReady(ctx context.Context) {}

// beforeClose lets the window close. (The tray issue turns closing into hiding.)
func (a *App) beforeClose(ctx context.Context) (prevent bool) { return false }

func (a *App) shutdown(ctx context.Context) {
	a.core.Stop()
	slog.Info("PgSafe stopped")
}

// secondInstance brings the existing window forward when PgSafe is launched again.
func (a *App) secondInstance(data options.SecondInstanceData) {
	if a.ctx == nil {
		return
	}
	runtime.WindowUnminimise(a.ctx)
	runtime.Show(a.ctx)
}

// ChooseBackupFile asks for a backup file with the system's open dialog
// ("" if the user cancelled).
func (a *App) ChooseBackupFile() (string, error) {
	return runtime.OpenFileDialog(a.ctx, runtime.OpenDialogOptions{
		Title:   "Choose a PgSafe backup file",
		Filters: []runtime.FileFilter{{DisplayName: "PgSafe backups (*.pgsafe)", Pattern: "*.pgsafe"}},
	})
}
