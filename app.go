//go:build !headless

package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/tray"
	"github.com/pgsafe/pgsafe/backend/ui"
)

// instanceID is the single-instance lock's id (options.SingleInstanceLock).
const instanceID = "io.pgsafe.desktop"

// App holds the desktop app's lifecycle: startup, the tray icon, window
// close, shutdown. Domain work lives in backend/; this only wires it to the
// window and the tray. Its exported methods are bound to the frontend.
type App struct {
	ctx     context.Context
	core    *ui.Core
	backups *ui.BackupService
	hidden  bool // started with --hidden (at login): the window stays hidden

	mu       sync.Mutex
	tray     *tray.Tray  // nil: no tray icon, closing the window quits
	quitting atomic.Bool // Quit was chosen: closing must not hide

	// nextBackup is the tray's "next scheduled backup" line ("" leaves it
	// out).
	nextBackup func() string
	// notify shows a desktop notification; when it fails (no notification
	// service), the first-close hint goes to the log and the tray tooltip.
	notify func(title, body string) error
}

// NewApp creates the lifecycle holder; hidden starts it without showing the
// window (it lives in the tray until opened).
func NewApp(core *ui.Core, backups *ui.BackupService, hidden bool) *App {
	return &App{core: core, backups: backups, hidden: hidden,
		nextBackup: core.NextBackup,
		notify:     func(title, body string) error { return ui.DesktopNotify(context.Background(), title, body) }}
}

// startup runs once the window exists. Keep it light: on Linux a second
// instance runs it briefly before the single-instance lock hands over and it
// exits (startTray checks for that before showing an icon).
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
	a.stopOnSignal()
	go a.startTray(ctx)
	dir, err := paths.EnsureHome()
	if err != nil {
		slog.Error("settings directory unavailable", "err", err)
		return
	}
	bi := buildinfo.Get()
	slog.Info("PgSafe started", "version", bi.Version, "commit", bi.Commit, "settings", dir, "hidden", a.hidden)
	a.core.SetEmitter(func(event string, data any) {
		runtime.EventsEmit(ctx, event, data)
		a.onEvent(event, data)
	})
	// The key and settings open in the background: a keychain may show its
	// unlock prompt, and the window must not wait for it. The UI asks
	// SystemService.KeyStatus and shows the reason if it failed.
	go a.core.Start(ctx)
}

// startTray shows the tray icon if this desktop has a tray, and says so once
// if not: then closing the window quits, and a window started hidden is shown
// (it would have nowhere to come back from).
func (a *App) startTray(ctx context.Context) {
	if !tray.FirstInstance(wailsInstanceBusName(instanceID), 2*time.Second) {
		return // a second instance: it hands over to the first and exits
	}
	var wait time.Duration
	if a.hidden {
		wait = 20 * time.Second // at login the panel may come up after PgSafe
	}
	av := tray.Probe(wait)
	if av.Available {
		t := tray.New(trayApp{a}, tray.Options{Log: slog.Default()})
		if err := t.Start(); err != nil {
			t.Stop()
			av = tray.Availability{Reason: err.Error()}
		} else {
			a.mu.Lock()
			a.tray = t
			a.mu.Unlock()
			slog.Info("tray icon shown: closing the window keeps PgSafe running")
		}
	}
	a.core.SetTrayStatus(ui.TrayStatus{Available: av.Available, Reason: av.Reason})
	if !av.Available {
		slog.Warn("no tray icon: closing the window quits PgSafe", "reason", av.Reason)
		if a.hidden {
			runtime.WindowShow(ctx)
		}
	}
}

// wailsInstanceBusName is the D-Bus name Wails' SingleInstanceLock owns on
// Linux for id (internal/frontend/desktop/linux/single_instance.go).
func wailsInstanceBusName(id string) string {
	return "org.wails_app_" + strings.NewReplacer("-", "_", ".", "_").Replace(id) + ".SingleInstance"
}

func (a *App) trayIcon() *tray.Tray {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tray
}

// onEvent keeps the tray current: a backup starts or finishes, a
// database's state changes, the key and settings open.
func (a *App) onEvent(event string, data any) {
	t := a.trayIcon()
	if t == nil {
		return
	}
	switch event {
	case ui.EventEngine:
		ev, ok := data.(ui.EngineEvent)
		if !ok || ev.Type == "job.progress" {
			return
		}
	case "core:status":
	default:
		return
	}
	go t.Refresh()
}

func (a *App) domReady(ctx context.Context) {}

// beforeClose hides the window instead of closing it while the tray icon is
// up (the first time, the user is told PgSafe keeps running). Without a tray,
// and after Quit, the window closes and PgSafe ends.
func (a *App) beforeClose(ctx context.Context) (prevent bool) {
	t := a.trayIcon()
	if a.quitting.Load() || t == nil {
		return false
	}
	runtime.WindowHide(ctx)
	go a.firstCloseHint(t)
	return true
}

// firstCloseHint tells the user, once ever, that PgSafe is still running.
func (a *App) firstCloseHint(t *tray.Tray) {
	if !a.core.FirstTrayHint(a.ctx) {
		return
	}
	const title = "PgSafe keeps running in the tray"
	const body = "Scheduled backups go on while the window is closed. Open PgSafe or quit it from the tray icon."
	if a.notify != nil {
		err := a.notify(title, body)
		if err == nil {
			return
		}
		slog.Warn("desktop notification failed", "err", err)
	}
	slog.Info(title, "hint", body)
	t.SetHint(title + ". " + body)
}

func (a *App) shutdown(ctx context.Context) {
	a.core.Stop()
	if t := a.trayIcon(); t != nil {
		t.Stop()
	}
	slog.Info("PgSafe stopped")
}

// quit ends PgSafe, window and tray.
func (a *App) quit() {
	a.quitting.Store(true)
	runtime.Quit(a.ctx)
}

// stopOnSignal quits on SIGTERM/SIGINT (logout, kill, Ctrl+C). Wails' own
// handler asks the window to close, which beforeClose turns into hiding
// while the tray icon is up: the signal would be swallowed (seen by hand).
// This one replaces it and marks the quit first.
func (a *App) stopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Reset(syscall.SIGTERM, syscall.SIGINT) // drops Wails' handler (wails.Run installed it)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-ch
		slog.Info("PgSafe stopping", "signal", s.String())
		go func() {
			time.Sleep(10 * time.Second)
			slog.Error("PgSafe did not stop within 10 s of the signal")
			os.Exit(1)
		}()
		a.quit()
	}()
}

// showWindow brings the window back (from the tray, or a second launch).
func (a *App) showWindow() {
	if a.ctx == nil {
		return
	}
	runtime.WindowUnminimise(a.ctx)
	runtime.WindowShow(a.ctx)
	runtime.Show(a.ctx)
	if t := a.trayIcon(); t != nil {
		t.ClearHint()
	}
}

// secondInstance brings the existing window forward when PgSafe is launched
// again, unless that launch was a hidden one (start at login while running).
func (a *App) secondInstance(data options.SecondInstanceData) {
	if slices.Contains(data.Args, "--hidden") {
		return
	}
	a.showWindow()
}

// ChooseBackupFile asks for a backup file with the system's open dialog
// ("" if the user cancelled).
func (a *App) ChooseBackupFile() (string, error) {
	return runtime.OpenFileDialog(a.ctx, runtime.OpenDialogOptions{
		Title:   "Choose a PgSafe backup file",
		Filters: []runtime.FileFilter{{DisplayName: "PgSafe backups (*.pgsafe)", Pattern: "*.pgsafe"}},
	})
}

// ChooseFolder asks for a folder with the system's folder chooser, starting
// at start if it is a folder ("" if the user cancelled).
func (a *App) ChooseFolder(title, start string) (string, error) {
	opts := runtime.OpenDialogOptions{Title: title, CanCreateDirectories: true}
	if fi, err := os.Stat(start); err == nil && fi.IsDir() {
		opts.DefaultDirectory = start
	}
	return runtime.OpenDirectoryDialog(a.ctx, opts)
}

// ChooseKitSaveFile asks where to save a recovery kit with the system's
// save dialog, starting at defaultPath ("" if the user cancelled).
func (a *App) ChooseKitSaveFile(defaultPath string) (string, error) {
	return runtime.SaveFileDialog(a.ctx, runtime.SaveDialogOptions{
		Title:            "Save the recovery kit",
		DefaultDirectory: filepath.Dir(defaultPath),
		DefaultFilename:  filepath.Base(defaultPath),
		Filters:          []runtime.FileFilter{{DisplayName: "Recovery kits (*.txt)", Pattern: "*.txt"}},
	})
}

// ChooseKitFile asks for a recovery kit with the system's open dialog (""
// if the user cancelled).
func (a *App) ChooseKitFile() (string, error) {
	return runtime.OpenFileDialog(a.ctx, runtime.OpenDialogOptions{
		Title: "Choose a PgSafe recovery kit",
		Filters: []runtime.FileFilter{
			{DisplayName: "Recovery kits (*.txt, *.pgsafe-key)", Pattern: "*.txt;*.pgsafe-key"},
			{DisplayName: "All files", Pattern: "*"},
		},
	})
}

// trayApp is what the tray shows and does, on the app's services. (A type of
// its own: App's exported methods would be bound to the frontend.)
type trayApp struct{ a *App }

func (t trayApp) Status() tray.Status {
	o := t.a.core.TrayOverview(t.a.ctx)
	st := tray.Status{Databases: o.Databases, Running: o.Running, Failing: o.Failing, Attention: o.Attention, Reason: o.Reason, Problem: o.Problem,
		Notice: o.Notice, Paused: tray.Pause{Paused: o.Paused, Until: o.PausedUntil}}
	if o.Last != nil {
		st.Last = &tray.Backup{Database: o.Last.Database, Succeeded: o.Last.Succeeded, At: o.Last.Finished}
	}
	return st
}

func (t trayApp) NextBackup() string { return t.a.nextBackup() }

// BackUp starts a backup; if it cannot start (already running, key not
// open), the tray logs why and a notification says so when there is one.
func (t trayApp) BackUp(db string) error {
	err := t.a.backups.Start(db)
	if err != nil && t.a.notify != nil {
		t.a.notify("The backup of "+db+" did not start", err.Error())
	}
	return err
}

func (t trayApp) PauseSchedules(d time.Duration) error { return t.a.core.PauseSchedules(t.a.ctx, d) }

func (t trayApp) ResumeSchedules() error { return t.a.core.ResumeSchedules(t.a.ctx) }

func (t trayApp) OpenWindow() { t.a.showWindow() }

func (t trayApp) Quit() { t.a.quit() }
