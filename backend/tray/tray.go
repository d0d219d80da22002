// Package tray puts PgSafe in the system tray (notification area): an icon
// that shows whether backups are idle, running or failing, and a menu with
// the last result, "Back up now" per database, "Pause schedules", "Open
// PgSafe" and "Quit".
//
// It owns the icon, the menu and their wording, nothing else: what is shown
// comes from an App the caller implements (the desktop app wires it to the
// engine through backend/ui), and every menu action is a call on that App.
// It imports no other PgSafe package.
//
// Wails v2 has no tray API, so the icon is drawn by fyne.io/systray:
//   - Linux: the StatusNotifierItem and com.canonical.dbusmenu protocols over
//     the D-Bus session bus. No GTK of its own, so it runs beside Wails' GTK
//     main loop from any goroutine. It needs a tray host (a panel that runs
//     org.kde.StatusNotifierWatcher: KDE, Xfce, Cinnamon, GNOME with the
//     AppIndicator extension …); Probe says whether one is there.
//   - Windows: Shell_NotifyIcon. The tray's hidden window and its message loop
//     must live on one OS thread; with systray.RunWithExternalLoop the loop
//     runs on another goroutine and the menu does not react
//     (fyne-io/systray#67), so it runs systray.Run on its own locked thread.
//   - macOS: an NSStatusItem in the menu bar. AppKit's run loop must own the
//     main thread and fyne.io/systray installs its own application delegate,
//     so the tray runs in the agent, a process with no Wails: the agent's
//     main goroutine runs systray.Run through a MainThread (Options.Main)
//     while the agent goes on on other goroutines. It needs cgo; a build
//     without (GOOS=darwin CGO_ENABLED=0) has no menu bar icon and Probe
//     says so. Only a graphical login (launchd's Aqua session) has a menu
//     bar.
package tray

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// State is what the icon shows.
type State int

const (
	// Idle: nothing running and the latest backups succeeded (or none yet).
	Idle State = iota
	// Running: at least one backup is in progress.
	Running
	// Failed: a database is failing or unprotected (see package status), or
	// backups cannot run.
	Failed
	// Attention: backed up, but a database needs a look (overdue, never
	// verified, no recovery kit…).
	Attention
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Failed:
		return "failed"
	case Attention:
		return "attention"
	}
	return "idle"
}

// Status is what the tray shows, as the App sees it now.
type Status struct {
	// Databases are the names offered under "Back up now", in menu order.
	Databases []string
	// Running are the databases being backed up now.
	Running []string
	// Last is the most recently finished backup of any database (nil: none).
	Last *Backup
	// Failing are the databases whose state (package status) is failing or
	// unprotected; Attention those that need attention. Reason is the worst
	// database's first reason, in words.
	Failing   []string
	Attention []string
	Reason    string
	// Problem, when set, is why backups cannot run at all ("PgSafe's key is
	// not open"): it becomes the status line and the icon shows Failed.
	Problem string
	// Notice, when set and nothing is wrong, replaces the status line
	// ("Opening the key and settings…").
	Notice string
	// Paused says whether scheduled backups are paused.
	Paused Pause
	// Lines are every database's state in words, in menu order, each shown
	// with the icon of its colour.
	Lines []DatabaseLine
	// Update is the version of a newer PgSafe that can be downloaded (""
	// none): the menu offers it, and App.OpenUpdate opens its page.
	Update string
}

// DatabaseLine is one database's state in the menu. A server entry's line
// (its state the worst of its databases') holds its databases' lines in
// Databases: the menu shows them in a submenu under it.
type DatabaseLine struct {
	Name      string
	State     State  // the icon beside it: Idle (protected), Attention, Failed
	Words     string // "needs attention: no backup of it has been verified yet"
	Databases []DatabaseLine
}

// Backup is one finished backup.
type Backup struct {
	Database  string
	Succeeded bool
	At        time.Time // when it finished
}

// Pause is the schedules' pause.
type Pause struct {
	Paused bool
	Until  time.Time // zero: until resumed
}

// State is the icon for s.
func (s Status) State() State {
	switch {
	case len(s.Running) > 0:
		return Running
	case s.Problem != "" || len(s.Failing) > 0 || (s.Last != nil && !s.Last.Succeeded):
		return Failed
	case len(s.Attention) > 0:
		return Attention
	}
	return Idle
}

// App is what the tray shows and does; the desktop app implements it. The
// tray calls it from its own goroutines.
type App interface {
	// Status is the current state of backups.
	Status() Status
	// NextBackup is the "next scheduled backup" line, or "" to leave it out.
	NextBackup() string
	// BackUp starts a backup of the named database now.
	BackUp(db string) error
	// PauseSchedules pauses scheduled backups for d, or until resumed (d == 0).
	PauseSchedules(d time.Duration) error
	// ResumeSchedules ends a pause.
	ResumeSchedules() error
	// OpenWindow shows PgSafe's window and brings it forward.
	OpenWindow()
	// OpenUpdate opens the download page of the newer PgSafe (Status.Update)
	// in the system browser; PgSafe itself downloads nothing.
	OpenUpdate()
	// Quit ends PgSafe.
	Quit()
}

// Availability says whether a tray icon can be shown, and why not.
type Availability struct {
	Available bool
	Reason    string // why not, in words (empty when available)
}

// Options tune a Tray.
type Options struct {
	// Title names the item for the tray host ("PgSafe").
	Title string
	// Every is how often the status line is refreshed on its own (its "5 min
	// ago" ages, and databases added meanwhile appear); default 30 s.
	Every time.Duration
	// Log receives what went wrong; default slog.Default().
	Log *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Main lends the main thread where NeedsMainThread (macOS); Start fails
	// there without it. Unused elsewhere.
	Main *MainThread
}

// Tray is the tray icon and its menu. There is one per process: the
// underlying library keeps global state.
type Tray struct {
	app  App
	opts Options
	log  *slog.Logger

	refreshMu sync.Mutex // held across App.Status and render
	mu        sync.Mutex
	started   bool
	ready     bool // the library called onReady: the menu can be built
	hint      string
	shown     shown // what the tray shows now (platform side)
	stopped   chan struct{}
	stopOne   sync.Once
	end       func() // the platform's teardown, set by start
}

// shown is what was last pushed to the platform tray.
type shown struct {
	state   State
	tooltip string
	iconSet bool
	menu    *builtMenu
}

// New returns a tray for app; Start shows it.
func New(app App, opts Options) *Tray {
	if opts.Title == "" {
		opts.Title = "PgSafe"
	}
	if opts.Every <= 0 {
		opts.Every = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tray{app: app, opts: opts, log: opts.Log, stopped: make(chan struct{})}
}

// startedOnce: fyne.io/systray keeps global state and cannot start twice.
var startedOnce atomic.Bool

// Start shows the icon and its menu and keeps them current. Call Probe first:
// Start fails if the icon could not be registered with the tray host.
func (t *Tray) Start() error {
	if !startedOnce.CompareAndSwap(false, true) {
		return fmt.Errorf("the tray icon can be started once per process")
	}
	t.mu.Lock()
	t.started = true
	t.mu.Unlock()
	if err := t.start(); err != nil {
		return err
	}
	go t.loop()
	return nil
}

// Stop removes the icon. It is safe to call more than once.
func (t *Tray) Stop() {
	t.stopOne.Do(func() {
		close(t.stopped)
		t.refreshMu.Lock() // let a refresh under way finish first
		defer t.refreshMu.Unlock()
		t.mu.Lock()
		started := t.started
		t.mu.Unlock()
		if started {
			t.stop()
		}
	})
}

// Refresh asks the App for its status and updates the icon, tooltip and
// menu. It returns when the tray shows the new state.
func (t *Tray) Refresh() {
	t.refreshMu.Lock() // one at a time, so an older status never lands last
	defer t.refreshMu.Unlock()
	select {
	case <-t.stopped:
		return
	default:
	}
	st := t.app.Status()
	next := t.app.NextBackup()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ready {
		return
	}
	t.render(st, next)
}

// SetHint puts a line before the status in the tooltip until ClearHint
// ("PgSafe keeps running here: …"), for when no desktop notification can
// say it.
func (t *Tray) SetHint(text string) {
	t.mu.Lock()
	changed := t.hint != text
	t.hint = text
	t.mu.Unlock()
	if changed {
		t.Refresh()
	}
}

// ClearHint removes the hint.
func (t *Tray) ClearHint() { t.SetHint("") }

// onReady builds the first menu (the library calls it once it can).
func (t *Tray) onReady() {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()
	st := t.app.Status()
	next := t.app.NextBackup()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ready = true
	t.render(st, next)
}

// loop refreshes on a timer and whenever the tray host opens the menu.
func (t *Tray) loop() {
	tick := time.NewTicker(t.opts.Every)
	defer tick.Stop()
	opened := menuOpened()
	for {
		select {
		case <-t.stopped:
			return
		case <-tick.C:
		case <-opened:
		}
		t.Refresh()
	}
}

// render pushes st to the platform tray; t.mu is held.
func (t *Tray) render(st Status, next string) {
	now := t.opts.Now()
	line := StatusLine(st, now)
	state := st.State()
	tip := t.opts.Title + ": " + line
	if t.hint != "" {
		tip = t.hint + "\n" + tip
	}
	if !t.shown.iconSet || state != t.shown.state {
		setIcon(state)
		t.shown.state, t.shown.iconSet = state, true
	}
	if tip != t.shown.tooltip {
		setTooltip(tip)
		t.shown.tooltip = tip
	}
	t.shown.menu = t.applyMenu(t.shown.menu, t.menu(st, line, next))
}

// entry is one menu item as the tray means it; key identifies it across
// refreshes (the menu is rebuilt only when the keys change).
type entry struct {
	key     string
	label   string
	enabled bool
	action  func()
	sub     []entry
	// icon, when hasIcon, is shown beside the label (a database's state).
	icon    State
	hasIcon bool
}

const separator = "-"

// menu is the whole menu for st.
func (t *Tray) menu(st Status, line, next string) []entry {
	m := []entry{{key: "status", label: line}}
	if next != "" {
		m = append(m, entry{key: "next", label: "Next scheduled backup: " + next})
	}
	m = append(m, entry{key: separator})
	if len(st.Lines) > 0 {
		for _, l := range st.Lines {
			e := entry{key: "state:" + l.Name, label: l.Name + ": " + l.Words, icon: l.State, hasIcon: true}
			for _, c := range l.Databases { // a server entry's databases, under it
				e.sub = append(e.sub, entry{key: "state:" + c.Name, label: c.Name + ": " + c.Words, icon: c.State, hasIcon: true})
			}
			e.enabled = e.sub != nil // a submenu opens only from an enabled item
			m = append(m, e)
		}
		m = append(m, entry{key: separator})
	}

	running := map[string]bool{}
	for _, r := range st.Running {
		running[r] = true
	}
	var dbs []entry
	for _, db := range st.Databases {
		db := db
		e := entry{key: "db:" + db, label: db, enabled: st.Problem == "" && !running[db]}
		if running[db] {
			e.label = db + " (backing up…)"
		}
		e.action = func() {
			if err := t.app.BackUp(db); err != nil {
				t.log.Warn("tray: back up now", "database", db, "err", err)
			}
			t.Refresh()
		}
		dbs = append(dbs, e)
	}
	if len(dbs) == 0 {
		dbs = []entry{{key: "db:none", label: "No databases yet"}}
	}
	m = append(m, entry{key: "backup", label: "Back up now", enabled: true, sub: dbs})

	pause := func(d time.Duration) func() {
		return func() {
			if err := t.app.PauseSchedules(d); err != nil {
				t.log.Warn("tray: pause schedules", "for", d, "err", err)
			}
			t.Refresh()
		}
	}
	pauseLabel := "Pause schedules"
	if st.Paused.Paused {
		pauseLabel = "Schedules paused until resumed"
		if !st.Paused.Until.IsZero() {
			pauseLabel = "Schedules paused until " + clock(st.Paused.Until, t.opts.Now())
		}
	}
	m = append(m, entry{key: "pause", label: pauseLabel, enabled: true, sub: []entry{
		{key: "pause:1h", label: "For 1 hour", enabled: true, action: pause(time.Hour)},
		{key: "pause:forever", label: "Until resumed", enabled: true, action: pause(0)},
		{key: "resume", label: "Resume schedules", enabled: st.Paused.Paused, action: func() {
			if err := t.app.ResumeSchedules(); err != nil {
				t.log.Warn("tray: resume schedules", "err", err)
			}
			t.Refresh()
		}},
	}})
	m = append(m, entry{key: separator})
	if st.Update != "" {
		m = append(m, entry{key: "update", label: "Update available: " + t.opts.Title + " " + st.Update + "…", enabled: true,
			action: func() { t.app.OpenUpdate() }})
	}
	m = append(m, entry{key: "open", label: "Open " + t.opts.Title, enabled: true, action: func() { t.app.OpenWindow() }})
	return append(m, t.quitEntry(st))
}

// quitEntry is "Quit PgSafe". While a backup runs it asks first, as a menu
// can: a submenu that says what quitting does to the backup, and the quit
// itself one more click away.
func (t *Tray) quitEntry(st Status) entry {
	quit := func() { t.app.Quit() }
	if len(st.Running) == 0 {
		return entry{key: "quit", label: "Quit " + t.opts.Title, enabled: true, action: quit}
	}
	what := "The backup of " + strings.Join(st.Running, ", ") + " is running"
	if len(st.Running) > 1 {
		what = "The backups of " + strings.Join(st.Running, ", ") + " are running"
	}
	return entry{key: "quit", label: "Quit " + t.opts.Title, enabled: true, sub: []entry{
		{key: "quit:running", label: what + ": it gets a minute to finish, then it is cancelled"},
		{key: "quit:confirm", label: "Quit " + t.opts.Title + " anyway", enabled: true, action: quit},
	}}
}

// signature is the menu's structure: its keys, nested.
func signature(m []entry) string {
	var b strings.Builder
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.key)
		if e.sub != nil {
			b.WriteString("[" + signature(e.sub) + "]")
		}
	}
	return b.String()
}

// StatusLine is the first line of the menu and of the tooltip: the last
// backup's result and age, or what is happening now.
func StatusLine(st Status, now time.Time) string {
	switch {
	case st.Problem != "":
		return st.Problem
	case len(st.Running) == 1:
		return "Backing up " + st.Running[0] + "…"
	case len(st.Running) > 1:
		return fmt.Sprintf("Backing up %d databases…", len(st.Running))
	case st.Last != nil && !st.Last.Succeeded:
		return "Last backup failed: " + st.Last.Database + ", " + Ago(st.Last.At, now)
	case len(st.Failing) == 1 && st.Reason != "":
		return st.Failing[0] + ": " + st.Reason
	case len(st.Failing) == 1:
		return st.Failing[0] + " is not protected"
	case len(st.Failing) > 1:
		return fmt.Sprintf("%d databases are not protected", len(st.Failing))
	case len(st.Attention) == 1 && st.Reason != "" && st.Notice == "":
		return st.Attention[0] + " needs attention: " + st.Reason
	case len(st.Attention) > 1 && st.Notice == "":
		return fmt.Sprintf("%d databases need attention", len(st.Attention))
	case st.Notice != "":
		return st.Notice
	case st.Last == nil:
		return "No backups yet"
	}
	return "Last backup succeeded: " + st.Last.Database + ", " + Ago(st.Last.At, now)
}

// Ago says how long before now t was, the way a status line does.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	case d < 48*time.Hour:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// clock is t's local time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}
