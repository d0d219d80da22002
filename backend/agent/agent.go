// Package agent is PgSafe's background process and its local API.
//
// One agent runs per settings directory (it holds the scheduler lock for
// its whole life). It owns everything that must go on while no window is
// open: the schedules, health checks, drills, retention, notifications and
// the tray icon, and every long job a face starts (backup, verify, drill,
// restore), so closing a window or a terminal never cancels one.
//
// The faces, the window (`pgsafe app`) and the command line, reach it over
// an endpoint only this user can open (endpoint_*.go): HTTP with JSON bodies
// (Server, Client), versioned by path (/v1/…). The agent serves the window's
// services of package ui by method name, so the window process holds no
// engine, and streams the engine's events to every face. docs/AGENT.md is
// the design; Ensure starts an agent for a face that finds none.
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/tray"
	"github.com/pgsafe/pgsafe/backend/ui"
	"github.com/pgsafe/pgsafe/backend/update"
)

// Options say how the agent runs.
type Options struct {
	// Home is the settings directory ("": paths.EnsureHome).
	Home string
	// Tray shows the tray icon when this desktop has a tray host (Linux
	// StatusNotifierItem, Windows notification area). Without one the agent
	// runs headless, as with Tray false (`pgsafe agent --no-tray`, `pgsafe run`).
	Tray bool
	// TrayWait: how long to wait for a tray host to appear (at login the
	// panel may come up after the agent).
	TrayWait time.Duration
	// Core says how the engine opens (ui.DesktopOptions for the desktop).
	Core ui.CoreOptions
	// Strict (`pgsafe run`): the key and settings must open and the
	// scheduler must run, or Run returns why. Otherwise the agent stays up
	// and the window shows the reason (a locked keychain, damaged settings).
	Strict bool
	// Window is the command that opens the window (the tray's "Open
	// PgSafe"); empty: this executable with "app".
	Window []string
	// NoUpdateChecks: the agent never checks for a newer PgSafe on its own
	// (`pgsafe run`, servers); "Check now" in a window still does. Else it
	// checks on UpdateSchedule (zero: update.DefaultSchedule) when the
	// build has a feed and the user has not turned the checks off.
	NoUpdateChecks bool
	UpdateSchedule update.Schedule
	Log            *slog.Logger
}

// Agent is a running agent (Run creates one).
type Agent struct {
	opts   Options
	home   string
	log    *slog.Logger
	core   *ui.Core
	server *Server
	stop   context.CancelFunc
	main   *tray.MainThread // macOS: where the tray's run loop runs

	mu   sync.Mutex
	tray *tray.Tray
}

// Services are the window's services the agent serves, by the names the
// window's bindings call them ("BackupService").
func Services(core *ui.Core) []any {
	return []any{
		ui.NewSystemService(core), ui.NewDatabaseService(core), ui.NewAuditService(core),
		ui.NewBackupService(core), ui.NewStorageService(core), ui.NewRestoreService(core),
		ui.NewNotifierService(core), ui.NewScheduleService(core),
	}
}

// Run runs the agent until ctx ends or a face asks it to stop. On the way
// out it stops serving, lets a scheduled backup in flight finish for the
// grace period (Core.Grace) and closes the engine. Cancelling ctx is the
// first Ctrl+C; CancelBackups is the second.
//
// On macOS, with Tray, call Run from the main goroutine (`pgsafe agent`
// does): the menu bar icon's run loop must own the main thread, so Run
// lends it to the tray (tray.MainThread) and runs the agent on another
// goroutine.
func Run(ctx context.Context, opts Options, started func(*Agent)) error {
	if opts.Tray && tray.NeedsMainThread() {
		main := tray.NewMainThread()
		return main.Run(func() error { return run(ctx, opts, main, started) })
	}
	return run(ctx, opts, nil, started)
}

// run is Run; main lends the main thread to the tray where it needs it.
func run(ctx context.Context, opts Options, main *tray.MainThread, started func(*Agent)) error {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	home := opts.Home
	if home == "" {
		h, err := paths.EnsureHome()
		if err != nil {
			return err
		}
		home = h
	}
	// One agent per settings directory: refuse before anything else starts.
	// The lock is held until Run returns, after the last log line.
	lk, err := lock(home)
	if err != nil {
		return err
	}
	defer lk.Close()

	// An agent idles all day: collect garbage twice as often as Go's
	// default (GOGC=50) to hold less memory, at a cost measured in
	// BenchmarkAgentIdle (docs/BENCHMARKS.md). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	a := &Agent{opts: opts, home: home, log: log, stop: stop, main: main}
	coreOpts := opts.Core
	schedErr := make(chan error, 1)
	if opts.Strict {
		coreOpts.OnSchedulerError = func(err error) { schedErr <- err; stop() }
	}
	a.core = ui.NewCoreWith(log, coreOpts)

	named := map[string]any{}
	for _, s := range Services(a.core) {
		named[reflect.TypeOf(s).Elem().Name()] = s
	}
	bi := buildinfo.Get()
	a.server, err = NewServer(ServerOptions{
		Hello:     Hello{Version: bi.Version, Commit: bi.Commit, PID: os.Getpid(), Home: home},
		Services:  named,
		Quit:      func() { log.Info("stopping: asked by a face"); stop() },
		OnWindows: a.windowsChanged,
		Log:       log,
	})
	if err != nil {
		return err
	}
	ln, err := Listen(home, log)
	if err != nil {
		return err
	}
	a.core.SetEmitter(a.emit)
	served := make(chan error, 1)
	go func() { served <- a.server.Serve(ln) }()
	NotifyReady()
	log.Info("PgSafe agent listening", "endpoint", SocketPath(home), "version", bi.Version, "pid", os.Getpid())

	if opts.Tray {
		go a.startTray(ctx)
	} else {
		a.core.SetTrayStatus(ui.TrayStatus{Reason: "PgSafe runs without a tray icon (--no-tray)"})
	}
	if err := a.core.Start(ctx); err != nil && opts.Strict {
		a.shutdown()
		return err
	}
	if err == nil {
		a.logSchedules(ctx)
	}
	if !opts.NoUpdateChecks {
		sched := opts.UpdateSchedule
		if sched == (update.Schedule{}) {
			sched = update.DefaultSchedule()
		}
		go a.watchUpdates(ctx, sched)
	}
	if started != nil {
		started(a)
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		log.Error("the agent's endpoint stopped", "err", err)
	}
	a.shutdown()
	select {
	case err := <-schedErr:
		return err
	default:
	}
	log.Info("PgSafe scheduler stopped cleanly")
	return nil
}

// emit sends what the services emit to every face, and keeps the tray
// current.
func (a *Agent) emit(event string, data any) {
	a.server.Publish(event, data)
	t := a.trayIcon()
	if t == nil {
		return
	}
	switch event {
	case ui.EventEngine:
		if ev, ok := data.(ui.EngineEvent); !ok || ev.Type == "job.progress" {
			return
		}
	case "core:status", ui.EventUpdates:
	default:
		return
	}
	go t.Refresh()
}

// shutdown stops serving, then the background work and the engine, then
// the tray.
func (a *Agent) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.server.Shutdown(ctx); err != nil {
		a.log.Warn("the agent's endpoint did not close cleanly", "err", err)
	}
	a.core.Stop()
	if t := a.trayIcon(); t != nil {
		t.Stop()
	}
}

// Stop asks the agent to stop (as POST /v1/quit does).
func (a *Agent) Stop() { a.stop() }

// CancelBackups cancels the backups in progress at once (a second Ctrl+C).
func (a *Agent) CancelBackups() { a.core.CancelBackups() }

// Home is the settings directory the agent serves.
func (a *Agent) Home() string { return a.home }

// logSchedules says, at start, what will run when.
func (a *Agent) logSchedules(ctx context.Context) {
	e, err := a.core.Engine()
	if err != nil {
		return
	}
	list, err := e.Schedules(ctx)
	if err != nil {
		return
	}
	if len(list) == 0 {
		a.log.Warn("no database has a schedule yet; waiting for one (set one in the window, or `pgsafe schedule set NAME --daily 02:00`)")
	}
	for _, s := range list {
		a.log.Info("schedule", "database", s.Database, "schedule", s.Description, "next_run", s.Schedule.NextRunAt.Local().Format(time.DateTime))
	}
	if until, paused, err := e.SchedulesPaused(ctx); err == nil && paused {
		a.log.Warn("schedules are paused; `pgsafe schedule resume` ends the pause", "until", until)
	}
	a.log.Info("PgSafe scheduler running", "home", a.home, "pid", os.Getpid())
}

func (a *Agent) trayIcon() *tray.Tray {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tray
}

// startTray shows the tray icon if this desktop has a tray host.
func (a *Agent) startTray(ctx context.Context) {
	av := tray.Probe(a.opts.TrayWait)
	if av.Available {
		t := tray.New(trayApp{a}, tray.Options{Log: a.log, Main: a.main})
		if err := t.Start(); err != nil {
			t.Stop()
			av = tray.Availability{Reason: err.Error()}
		} else {
			a.mu.Lock()
			a.tray = t
			a.mu.Unlock()
			a.log.Info("tray icon shown")
		}
	}
	if !av.Available {
		a.log.Warn("no tray icon: the agent runs headless; open the window with `pgsafe app`", "reason", av.Reason)
	}
	a.core.SetTrayStatus(ui.TrayStatus{Available: av.Available, Reason: av.Reason})
}

// windowsChanged: when the last window closes while the tray icon is up,
// the user is told once ever that PgSafe goes on in the tray.
func (a *Agent) windowsChanged() {
	t := a.trayIcon()
	if t == nil || a.server.Windows() > 0 {
		return
	}
	if !a.core.FirstTrayHint(context.Background()) {
		return
	}
	const title = "PgSafe keeps running in the tray"
	const body = "Scheduled backups go on while the window is closed. Open PgSafe or quit it from the tray icon."
	if err := ui.DesktopNotify(context.Background(), title, body); err == nil {
		return
	} else {
		a.log.Warn("desktop notification failed", "err", err)
	}
	t.SetHint(title + ". " + body)
}

// openWindow starts the window (a running one comes forward instead: the
// window is single-instance).
func (a *Agent) openWindow() error {
	cmd := a.opts.Window
	if len(cmd) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cmd = []string{WindowProgram(exe), "app"}
	}
	cmd = ownScope(cmd, os.Getenv("INVOCATION_ID"), exec.LookPath)
	c := exec.Command(cmd[0], cmd[1:]...)
	c.SysProcAttr = detached()
	if err := c.Start(); err != nil {
		return fmt.Errorf("open PgSafe's window: %w", err)
	}
	go c.Wait()
	return nil
}

// ownScope runs cmd in a systemd scope of its own when the agent runs as a
// systemd user service (INVOCATION_ID is set): otherwise the window would be
// in the service's cgroup, and a crash of the agent would end it too.
func ownScope(cmd []string, invocation string, lookPath func(string) (string, error)) []string {
	if invocation == "" {
		return cmd
	}
	run, err := lookPath("systemd-run")
	if err != nil {
		return cmd
	}
	return append([]string{run, "--user", "--scope", "--quiet", "--collect", "--"}, cmd...)
}

// trayApp is what the tray shows and does.
type trayApp struct{ a *Agent }

func (t trayApp) Status() tray.Status {
	o := t.a.core.TrayOverview(context.Background())
	st := tray.Status{Databases: o.Databases, Running: o.Running, Failing: o.Failing, Attention: o.Attention, Reason: o.Reason, Problem: o.Problem,
		Notice: o.Notice, Paused: tray.Pause{Paused: o.Paused, Until: o.PausedUntil}}
	if o.Last != nil {
		st.Last = &tray.Backup{Database: o.Last.Database, Succeeded: o.Last.Succeeded, At: o.Last.Finished}
	}
	for _, l := range o.Lines {
		st.Lines = append(st.Lines, trayLine(l))
	}
	st.Update, _ = t.a.core.UpdateOffer()
	return st
}

// trayLine words a database's state for the tray menu, with the icon of its
// colour.
func trayLine(l ui.TrayLine) tray.DatabaseLine {
	words := l.State.Words()
	if l.Reason != "" {
		words += ": " + human.Shorten(l.Reason, 60)
	}
	icon := tray.Idle
	switch l.State {
	case status.Attention:
		icon = tray.Attention
	case status.Failing, status.Unprotected:
		icon = tray.Failed
	}
	line := tray.DatabaseLine{Name: l.Database, State: icon, Words: words}
	for _, c := range l.Databases {
		line.Databases = append(line.Databases, trayLine(c))
	}
	return line
}

func (t trayApp) NextBackup() string { return t.a.core.NextBackup() }

// BackUp starts a backup; if it cannot start (already running, key not
// open), a notification says why.
func (t trayApp) BackUp(db string) error {
	err := ui.NewBackupService(t.a.core).Start(db)
	if err != nil {
		if nerr := ui.DesktopNotify(context.Background(), "The backup of "+db+" did not start", err.Error()); nerr != nil {
			t.a.log.Warn("desktop notification failed", "err", nerr)
		}
	}
	return err
}

func (t trayApp) PauseSchedules(d time.Duration) error {
	return t.a.core.PauseSchedules(context.Background(), d)
}

func (t trayApp) ResumeSchedules() error { return t.a.core.ResumeSchedules(context.Background()) }

func (t trayApp) OpenWindow() {
	if err := t.a.openWindow(); err != nil {
		t.a.log.Error("the window did not open", "err", err)
	}
}

// OpenUpdate opens the newer release's download page in the browser.
func (t trayApp) OpenUpdate() {
	if err := t.a.openUpdatePage(); err != nil {
		t.a.log.Error("the download page did not open", "err", err)
	}
}

// Quit stops the agent: a scheduled backup in flight may finish for the
// grace period; open windows close.
func (t trayApp) Quit() {
	t.a.log.Info("stopping: Quit PgSafe in the tray")
	t.a.stop()
}
