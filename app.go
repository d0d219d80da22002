//go:build !headless

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/buildinfo"
)

// instanceID is the single-instance lock's id (options.SingleInstanceLock).
const instanceID = "io.pgsafe.desktop"

// App is the window: a face of PgSafe's agent (backend/agent), which owns
// the engine, the schedules, the tray icon and every job. The window starts
// the agent if none runs, forwards the frontend's calls to it (Call) and its
// events to the frontend, and exits completely when closed: the agent goes
// on. Its exported methods are bound to the frontend; the system dialogs
// are the window's own.
type App struct {
	ctx  context.Context
	home string
	// agentCmd starts the agent: this executable with "agent".
	agentCmd []string

	loaded atomic.Bool // the page loaded (domReady)

	mu      sync.Mutex
	client  *agent.Client
	connErr error         // why there is no agent, while there is none
	ready   chan struct{} // closed when the first attempt to reach the agent ended
}

// NewApp creates the window's side of the app for the settings directory
// home; agentCmd starts the agent when none runs.
func NewApp(home string, agentCmd []string) *App {
	return &App{home: home, agentCmd: agentCmd, ready: make(chan struct{})}
}

// startup runs once the window exists. Keep it light: on Linux a second
// instance runs it briefly before the single-instance lock hands over and
// it exits.
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
	a.quitOnSignal()
	bi := buildinfo.Get()
	slog.Info("PgSafe window started", "version", bi.Version, "commit", bi.Commit, "settings", a.home)
	go a.follow(ctx)
}

// follow reaches the agent (starting it if none runs) and forwards its
// events to the frontend until the window closes. If the agent goes away
// (it crashed, or was killed), the window starts it again; if it stopped on
// purpose (Quit PgSafe in the tray, `pgsafe agent stop`), the window closes
// too.
func (a *App) follow(ctx context.Context) {
	first := true
	wait := time.Second
	for ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		c, h, err := agent.Ensure(sctx, a.home, a.agentCmd)
		cancel()
		a.mu.Lock()
		if err == nil {
			a.client, a.connErr = c, nil
		} else {
			a.client, a.connErr = nil, err
		}
		a.mu.Unlock()
		if first {
			close(a.ready)
			first = false
		}
		if err != nil {
			slog.Error("PgSafe's agent cannot be reached", "err", err)
			runtime.EventsEmit(ctx, "core:status", map[string]any{"error": agentProblem(err).Error()})
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 30*time.Second)
			continue
		}
		wait = time.Second
		// Subscribe before reading the state, so that nothing the agent says
		// in between (the key opening, say) is missed.
		stream, err := c.FollowAsWindow(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			slog.Warn("PgSafe's agent does not stream its events; trying again", "err", err)
			continue
		}
		slog.Info("connected to PgSafe's agent", "pid", h.PID, "version", h.Version)
		// The frontend forgets the jobs of an agent that went away.
		runtime.EventsEmit(ctx, "agent:connected", h)
		// A window that reconnects reads the state again.
		var ks json.RawMessage
		if err := c.Call(ctx, "SystemService.KeyStatus", &ks); err == nil {
			runtime.EventsEmit(ctx, "core:status", ks)
		}
		stopping := false
		for {
			ev, nerr := stream.Next()
			if nerr != nil {
				err = nerr
				break
			}
			if ev.Name == "agent:stopping" {
				stopping = true
			}
			runtime.EventsEmit(ctx, ev.Name, ev.Data)
		}
		stream.Close()
		if ctx.Err() != nil {
			return
		}
		if stopping {
			slog.Info("PgSafe's agent stopped: closing the window")
			runtime.Quit(ctx)
			return
		}
		slog.Warn("lost PgSafe's agent; starting it again", "err", err)
	}
}

// errNoAgent wraps why the window has no agent, for the frontend.
var errNoAgent = errors.New("PgSafe's background agent is not running")

func agentProblem(err error) error {
	if errors.Is(err, agent.ErrNotRunning) {
		return err
	}
	return errors.Join(errNoAgent, err)
}

// agentClient waits for the first attempt to reach the agent and returns
// the client, or why there is none.
func (a *App) agentClient() (*agent.Client, error) {
	select {
	case <-a.ready:
	case <-a.ctx.Done():
		return nil, a.ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil {
		return nil, agentProblem(a.connErr)
	}
	return a.client, nil
}

// Call calls a method of the agent's services ("BackupService.Start") with
// the frontend's arguments and returns its result: every call of the
// frontend's bindings to package ui comes here (frontend/src/bridge.ts).
// An agent that vanished between two calls is started again first.
func (a *App) Call(method string, args []json.RawMessage) (json.RawMessage, error) {
	c, err := a.agentClient()
	if err != nil {
		return nil, err
	}
	out, err := c.CallRaw(a.ctx, method, args)
	if errors.Is(err, agent.ErrNotRunning) {
		// Refused at connect: the call was never sent, so sending it to a
		// new agent cannot run it twice.
		sctx, cancel := context.WithTimeout(a.ctx, 60*time.Second)
		c, _, err = agent.Ensure(sctx, a.home, a.agentCmd)
		cancel()
		if err != nil {
			return nil, agentProblem(err)
		}
		out, err = c.CallRaw(a.ctx, method, args)
	}
	var re *agent.RemoteError
	if errors.As(err, &re) {
		return nil, errors.New(re.Message)
	}
	return out, err
}

// QuitPgSafe stops PgSafe's agent, as "Quit PgSafe" in the tray does (the
// way to stop it on a desktop without a tray): it starts nothing new, gives
// a scheduled backup in flight its grace period, and says agent:stopping,
// on which this window closes (follow).
func (a *App) QuitPgSafe() error {
	c, err := a.agentClient()
	if err != nil {
		return err
	}
	return c.Quit(a.ctx)
}

// domReady marks the page loaded: from then on the GTK main loop runs and
// runtime.Quit can end it.
func (a *App) domReady(ctx context.Context) { a.loaded.Store(true) }

// quitOnSignal closes the window on SIGTERM or SIGINT (logout, kill,
// Ctrl+C in the terminal that started it). Wails' own handler does not end
// the process here, and runtime.Quit before the main loop runs is lost
// (gtk_main_quit: "main_loops != NULL" failed; seen when the signal came
// while the page loaded). The window holds no state of its own (the agent
// has it all), so when a clean quit is not possible or does not end it
// within 2 s, the process exits.
func (a *App) quitOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Reset(syscall.SIGTERM, syscall.SIGINT) // drops Wails' handler (wails.Run installed it)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-ch
		slog.Info("closing the window", "signal", s.String())
		if !a.loaded.Load() {
			os.Exit(0)
		}
		go func() {
			time.Sleep(2 * time.Second)
			slog.Warn("the window did not close within 2 s of the signal: exiting")
			os.Exit(0)
		}()
		runtime.Quit(a.ctx)
	}()
}

func (a *App) shutdown(ctx context.Context) {
	a.mu.Lock()
	if a.client != nil {
		a.client.Close()
	}
	a.mu.Unlock()
	slog.Info("PgSafe window closed")
}

// showWindow brings the window forward (a second launch, "Open PgSafe" in
// the tray).
func (a *App) showWindow() {
	if a.ctx == nil {
		return
	}
	runtime.WindowUnminimise(a.ctx)
	runtime.WindowShow(a.ctx)
	runtime.Show(a.ctx)
}

// secondInstance brings the existing window forward when PgSafe is launched
// again.
func (a *App) secondInstance(data options.SecondInstanceData) { a.showWindow() }

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
