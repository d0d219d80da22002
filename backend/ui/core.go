package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/update"
)

// Core holds the engine the services share. The app opens it at startup; if
// that fails (no keychain, locked keychain), the services answer with the
// reason and the UI shows how to fix it instead of screens that cannot work.
type Core struct {
	mu   sync.Mutex
	ctx  context.Context
	eng  *engine.Engine
	err  error
	log  *slog.Logger
	emit func(event string, data any)

	// The scheduler and the health monitor run while the app runs (window
	// open or not); Stop cancels them and waits.
	stopping atomic.Bool
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	schedErr error // why the scheduler is not running, if it is not

	opts    CoreOptions
	jobs    faceJobs        // the jobs faces started and follow (jobs.go)
	updates *engine.Updates // the update checks (updates.go)
	signIns signIns         // cloud drive sign-ins waiting for the browser (signin.go)
}

// CoreOptions say how the core opens the engine and runs the background
// work. The desktop's agent uses DesktopOptions; `pgsafe run` (a server, no
// desktop) opens an existing key, maybe from a key file.
type CoreOptions struct {
	KeyFile              string // --key-file: a key file or recovery kit instead of the keychain
	CreateKey            bool   // create the master key on first run
	DesktopNotifications bool   // failures also go to the desktop's notification area
	// Grace: how long a scheduled backup in flight may finish once Stop is
	// called (0: schedule.DefaultGrace; negative: cancel at once).
	Grace time.Duration
	// HealthEvery: how often the databases' connections are checked (0: 10 s).
	HealthEvery time.Duration
	// Claim: the scheduler lock, taken by the caller beforehand (nil: the
	// scheduler takes it, and says why not if another process holds it).
	Claim *engine.SchedulerClaim
	// OnSchedulerError is told when the scheduler stops with an error.
	OnSchedulerError func(error)
	// Updates: the update feed checked and how (nil: this build's, see
	// engine.UpdateOptionsFromBuild; tests point it at a local server).
	Updates *update.Options
}

// DesktopOptions are the desktop's: the key is created in the keychain on
// first run and failures reach the notification area.
var DesktopOptions = CoreOptions{CreateKey: true, DesktopNotifications: true}

// NewCore returns a core with no engine yet, with DesktopOptions.
func NewCore(log *slog.Logger) *Core { return NewCoreWith(log, DesktopOptions) }

// NewCoreWith returns a core with no engine yet that opens it with opts.
func NewCoreWith(log *slog.Logger, opts CoreOptions) *Core {
	if log == nil {
		log = slog.Default()
	}
	c := &Core{log: log, emit: func(string, any) {}, err: errStarting, opts: opts}
	uo := engine.UpdateOptionsFromBuild()
	if opts.Updates != nil {
		uo = *opts.Updates
	}
	c.updates = engine.NewUpdates(uo, c.updatesChanged, log)
	return c
}

var errStarting = errors.New("PgSafe is still opening its key and settings")

// SetEmitter sets how events reach the frontend (Wails' EventsEmit). Once
// Stop has begun, events are dropped: the window is going away.
func (c *Core) SetEmitter(emit func(event string, data any)) {
	c.emit = func(event string, data any) {
		if !c.stopping.Load() {
			emit(event, data)
		}
	}
}

// Start opens the engine: the master key (created in the keychain on first
// run) and the settings. It keeps the error for the UI.
// It emits "core:status" (a KeyStatus) when done.
func (c *Core) Start(ctx context.Context) error { return c.open(ctx, false) }

// open is Start; with accept, a settings database changed outside PgSafe
// is accepted as it now is (see AcceptSettings).
func (c *Core) open(ctx context.Context, accept bool) error {
	eng, err := engine.Open(ctx, engine.Options{KeyFile: c.opts.KeyFile, CreateKey: c.opts.CreateKey,
		DesktopNotifications: c.opts.DesktopNotifications, Log: c.log, AcceptModified: accept})
	c.mu.Lock()
	c.ctx, c.eng, c.err = ctx, eng, err
	c.mu.Unlock()
	if err != nil {
		c.log.Error("PgSafe cannot open its key and settings", "err", err)
	} else {
		eng.Subscribe(c.forward) // until the engine closes
		if rerr := eng.RecordEvent(ctx, engine.Event{Action: "app.started"}); rerr != nil {
			c.log.Error("audit app start", "err", rerr)
		}
		c.startBackground(eng)
	}
	c.emit("core:status", c.keyStatus())
	return err
}

// Retry opens the key and settings again after Start failed: the keychain
// was unlocked since, or damaged settings were set aside and PgSafe goes on
// with empty ones. It emits "core:status" like Start.
func (c *Core) Retry() error { return c.reopen(false) }

// AcceptSettings opens the settings the user says they changed themselves
// (restored pgsafe.db from a backup of their home folder, say), accepting
// them as they now are; the acceptance is audited.
func (c *Core) AcceptSettings() error { return c.reopen(true) }

func (c *Core) reopen(accept bool) error {
	c.mu.Lock()
	if c.eng != nil {
		c.mu.Unlock()
		return nil
	}
	ctx := c.ctx
	c.err = errStarting
	c.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	return c.open(ctx, accept)
}

// startBackground runs the scheduler (scheduled backups, retention and
// drills after them), the connection checks and the drills that fall due
// on their own until Stop.
func (c *Core) startBackground(eng *engine.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.bgCtx, c.bgCancel = ctx, cancel
	c.mu.Unlock()
	c.bg.Add(3)
	go func() {
		defer c.bg.Done()
		err := eng.RunScheduler(ctx, engine.SchedulerOptions{Grace: c.opts.Grace, Claim: c.opts.Claim,
			OnEvent: func(ev engine.ScheduleEvent) { c.emit("schedule:event", ev) }})
		if err != nil && c.opts.OnSchedulerError != nil {
			c.opts.OnSchedulerError(err)
		}
		if err != nil {
			c.log.Error("scheduled backups are not running", "err", err)
			c.mu.Lock()
			c.schedErr = err
			c.mu.Unlock()
			c.emit("schedule:event", engine.ScheduleEvent{Kind: "error", At: time.Now()})
		}
	}()
	go func() {
		defer c.bg.Done()
		every := c.opts.HealthEvery
		if every <= 0 {
			every = 10 * time.Second
		}
		eng.NewHealthMonitor(func(ev engine.HealthEvent) { c.emit("health:changed", ev) }).Run(ctx, every)
	}()
	go func() {
		defer c.bg.Done()
		eng.RunDrillLoop(ctx, 15*time.Minute)
	}()
}

// work starts a piece of long work the user asked for (a backup, a
// restore): its ctx ends when the app quits, and quitting waits for it to
// wind down (a cancelled backup keeps nothing, a cancelled restore drops the
// database it was creating). Call done when it is over.
func (c *Core) work() (ctx context.Context, done func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	parent := c.bgCtx
	if parent == nil {
		parent = context.Background()
	}
	c.bg.Add(1)
	ctx, cancel := context.WithCancel(parent)
	return ctx, func() {
		cancel()
		c.bg.Done()
	}
}

// SchedulerError says why scheduled backups are not running in this app
// ("" when they are), for example because `pgsafe run` holds them.
func (c *Core) SchedulerError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schedErr == nil {
		return ""
	}
	return c.schedErr.Error()
}

// Stop lets a scheduled backup in flight finish (for a grace period), then
// closes the engine.
func (c *Core) Stop() {
	c.stopping.Store(true)
	c.mu.Lock()
	cancel := c.bgCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		c.bg.Wait()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng != nil {
		c.eng.RecordEvent(context.Background(), engine.Event{Action: "app.stopped"})
		c.eng.Close()
		c.eng = nil
	}
}

// engine returns the open engine or why there is none.
func (c *Core) engine() (*engine.Engine, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng == nil {
		return nil, fmt.Errorf("PgSafe's key and settings are not open: %w", c.err)
	}
	return c.eng, nil
}

// KeyStatus is what Settings shows about the master key.
type KeyStatus struct {
	Ready  bool   `json:"ready"`
	KeyID  string `json:"keyId,omitempty"`
	Source string `json:"source,omitempty"` // "keychain", "key-file", …
	Error  string `json:"error,omitempty"`  // why it is not ready, and what to do
	// Starting: not ready yet, still opening (wait for the "core:status" event).
	Starting bool `json:"starting,omitempty"`
	// SettingsModified: the settings database was changed outside PgSafe
	// (Error says how); AcceptSettings takes it as it now is.
	SettingsModified bool   `json:"settingsModified,omitempty"`
	ModifiedDetail   string `json:"modifiedDetail,omitempty"` // e.g. "it is an older copy (change 12; …)"
	// SettingsDamaged: the settings database was empty or damaged and was
	// moved to KeptAs (Error says so); Retry starts with empty settings.
	SettingsDamaged bool   `json:"settingsDamaged,omitempty"`
	SettingsPath    string `json:"settingsPath,omitempty"`
	DamagedReason   string `json:"damagedReason,omitempty"` // e.g. "is empty (0 bytes) although …"
	KeptAs          string `json:"keptAs,omitempty"`
}

// keyStatus reports the core's key.
func (c *Core) keyStatus() KeyStatus {
	e, err := c.engine()
	if err != nil {
		f := engine.DescribeOpenFailure(err)
		switch {
		case f.SettingsDamaged:
			return KeyStatus{Error: f.Message, SettingsDamaged: true, SettingsPath: f.SettingsPath, DamagedReason: f.DamagedReason, KeptAs: f.KeptAs}
		case f.SettingsModified:
			return KeyStatus{Error: f.Message, SettingsModified: true, SettingsPath: f.SettingsPath, ModifiedDetail: f.ModifiedDetail}
		}
		return KeyStatus{Error: f.Message, Starting: errors.Is(err, errStarting)}
	}
	k := e.Key()
	return KeyStatus{Ready: true, KeyID: k.ID, Source: k.Source}
}

// NextBackup is the tray's and Overview's "next backup" line: the soonest
// enabled schedule ("" when none, or while paused).
func (c *Core) NextBackup() string {
	e, err := c.engine()
	if err != nil {
		return ""
	}
	ctx := context.Background()
	if _, paused, err := e.SchedulesPaused(ctx); err != nil || paused {
		return ""
	}
	list, err := e.Schedules(ctx)
	if err != nil {
		return ""
	}
	for _, sc := range list { // soonest first
		if sc.Schedule.Enabled && !sc.Schedule.NextRunAt.IsZero() && sc.Problem == "" {
			next := sc.Schedule.NextRunAt.Local()
			when := next.Format("15:04")
			if next.YearDay() != time.Now().YearDay() || next.Year() != time.Now().Year() {
				when = next.Format("Mon 2 Jan 15:04")
			}
			return fmt.Sprintf("Next backup: %s at %s", sc.Database, when)
		}
	}
	return ""
}

// CancelBackups cancels every backup in progress at once (a second Ctrl+C
// while stopping): each is recorded as cancelled and keeps nothing.
func (c *Core) CancelBackups() {
	e, err := c.engine()
	if err != nil {
		return
	}
	for _, r := range e.RunningBackups() {
		e.CancelBackup(r.DatabaseName)
	}
}

// Engine is the open engine, or why there is none (the agent reads the
// schedules it logs at start).
func (c *Core) Engine() (*engine.Engine, error) { return c.engine() }
