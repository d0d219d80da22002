package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/filelock"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/schedule"
	"github.com/pgsafe/pgsafe/backend/store"
)

// App settings of the scheduler, read when it starts (docs/SCHEDULE.md).
const (
	SettingScheduleMaxParallel = "schedule.max_parallel"   // backups at once (default 2)
	SettingScheduleRetries     = "schedule.retries"        // retries of a failed scheduled backup (default 2)
	SettingScheduleRetryDelay  = "schedule.retry_delay"    // wait before the first retry, doubling after (default 5m)
	SettingScheduleJitter      = "schedule.catchup_jitter" // random delay of catch-up runs, below this (default 30s)
)

// Defaults of the scheduler's settings.
const (
	DefaultScheduleMaxParallel = 2
	DefaultScheduleRetries     = 2
	DefaultScheduleRetryDelay  = 5 * time.Minute
	DefaultScheduleJitter      = 30 * time.Second
)

// DefaultGrace is how long a backup in flight may finish once the
// scheduler is stopped, unless SchedulerOptions.Grace says otherwise.
const DefaultGrace = schedule.DefaultGrace

// SchedulerLockFile, in the settings directory, is held by the process
// running the schedules: two schedulers on one machine would back up each
// slot twice.
const SchedulerLockFile = "scheduler.lock"

// SchedulerOptions say how RunScheduler runs.
type SchedulerOptions struct {
	// Grace is how long a backup in flight may finish once ctx is
	// cancelled; then it is cancelled (recorded as cancelled, nothing kept).
	// Zero: DefaultGrace; negative: cancel at once.
	Grace time.Duration
	// OnEvent is told of runs started, finished, retried and failed, and of
	// the scheduler's own troubles (for notifications and the UI). It is
	// called from the scheduler's goroutine: return quickly.
	OnEvent func(ScheduleEvent)

	// Claim is the scheduler lock taken beforehand with ClaimScheduler (to
	// refuse before anything else starts); RunScheduler releases it when it
	// returns. nil: RunScheduler takes it.
	Claim *SchedulerClaim

	// Clock and Heartbeat are for tests (nil, 0: the real clock, every 30s).
	Clock     schedule.Clock
	Heartbeat time.Duration
}

// ScheduleEvent is something the scheduler did: Kind is one of
// schedule.EventKind's values (started, finished, retrying, failed,
// cancelled, not_ready, woke, paused, resumed, error).
type ScheduleEvent struct {
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
	Database   string    `json:"database,omitempty"`
	DatabaseID int64     `json:"database_id,omitempty"`
	Slot       time.Time `json:"slot,omitzero"`  // the scheduled time the run is for
	Next       time.Time `json:"next,omitzero"`  // the schedule's next run (finished, failed), or a pause's end
	Retry      time.Time `json:"retry,omitzero"` // when the next try starts (retrying, not_ready)
	CatchUp    bool      `json:"catch_up,omitempty"`
	Attempt    int       `json:"attempt,omitempty"`
	// Backup is the history record of the try (finished, retrying, failed,
	// cancelled).
	Backup  *store.Backup `json:"backup,omitempty"`
	Error   string        `json:"error,omitempty"`
	Message string        `json:"message"`
}

// The scheduler running in this process for an engine, so that schedule
// changes and pauses reach it at once.
var activeSchedulers sync.Map // *Engine → *schedule.Scheduler

func (e *Engine) activeScheduler() *schedule.Scheduler {
	if s, ok := activeSchedulers.Load(e); ok {
		return s.(*schedule.Scheduler)
	}
	return nil
}

func (e *Engine) reloadScheduler() {
	if s := e.activeScheduler(); s != nil {
		s.Reload()
	}
}

// RunScheduler runs the databases' schedules until ctx is cancelled: each
// due slot is a BackupNow with origin "scheduled" (so it is in the history,
// retention and drills follow as after any backup), missed slots run once,
// failed runs are retried, at most schedule.max_parallel at once. When ctx
// is cancelled it starts nothing new, gives a backup in flight opts.Grace to
// finish, then cancels it, and returns nil. It fails at once when another
// process on this machine runs the schedules.
func (e *Engine) RunScheduler(ctx context.Context, opts SchedulerOptions) error {
	claim := opts.Claim
	if claim == nil {
		var err error
		if claim, err = e.ClaimScheduler(); err != nil {
			return err
		}
	}
	defer claim.Release()

	names := sync.Map{} // database id → name, for messages
	label := func(id int64) string {
		if n, ok := names.Load(id); ok {
			return n.(string)
		}
		d, err := e.store.Database(context.WithoutCancel(ctx), id)
		if err != nil {
			return fmt.Sprintf("database %d", id)
		}
		names.Store(id, d.Name)
		return d.Name
	}
	tries := sync.Map{} // database id → *store.Backup of the latest try
	run := func(ctx context.Context, id int64) error {
		d, err := e.store.Database(ctx, id)
		if err != nil {
			return fmt.Errorf("database %d: %w", id, err)
		}
		names.Store(id, d.Name)
		started := time.Now()
		b, err := e.BackupNow(ctx, d.Name, store.OriginScheduled, nil)
		if err != nil {
			b = e.recordTry(ctx, d, started, err)
		}
		if b != nil {
			tries.Store(id, b)
		} else {
			tries.Delete(id)
		}
		return err
	}
	ready := func(ctx context.Context, id int64) error {
		c, err := e.store.DatabaseCredentials(ctx, id)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		cfg, closeFn, err := connect(ctx, c)
		if err != nil {
			return err
		}
		defer closeFn()
		_, err = pg.Test(ctx, cfg)
		return err
	}
	onEvent := func(ev schedule.Event) {
		if opts.OnEvent == nil {
			return
		}
		out := ScheduleEvent{Kind: string(ev.Kind), At: ev.At, DatabaseID: ev.DatabaseID, Slot: ev.Slot, Next: ev.Next,
			Retry: ev.Retry, CatchUp: ev.CatchUp, Attempt: ev.Attempt, Message: ev.Message}
		if ev.Err != nil {
			out.Error = ev.Err.Error()
		}
		if ev.DatabaseID != 0 {
			out.Database = label(ev.DatabaseID)
		}
		switch ev.Kind {
		case schedule.EventFinished, schedule.EventRetrying, schedule.EventFailed, schedule.EventCancelled:
			if b, ok := tries.Load(ev.DatabaseID); ok {
				out.Backup = b.(*store.Backup)
			}
		}
		opts.OnEvent(out)
	}

	retries := e.intSetting(ctx, SettingScheduleRetries, DefaultScheduleRetries, 0, 100)
	s, err := schedule.New(schedule.Options{
		Store: scheduleStore{e.store}, Run: run, Ready: ready, Clock: opts.Clock,
		MaxParallel: e.intSetting(ctx, SettingScheduleMaxParallel, DefaultScheduleMaxParallel, 1, 64),
		Attempts:    retries + 1,
		RetryDelay:  e.durationSetting(ctx, SettingScheduleRetryDelay, DefaultScheduleRetryDelay),
		Jitter:      e.durationSetting(ctx, SettingScheduleJitter, DefaultScheduleJitter),
		Heartbeat:   opts.Heartbeat, Grace: opts.Grace, OnEvent: onEvent, Label: label, Log: e.log,
	})
	if err != nil {
		return err
	}
	if _, loaded := activeSchedulers.LoadOrStore(e, s); loaded {
		return errors.New("the scheduler is already running in this process")
	}
	defer activeSchedulers.Delete(e)
	return s.Run(ctx)
}

// recordTry returns the history record of a scheduled try that failed: the
// one BackupNow wrote, or, when it failed before writing one (no storage,
// another backup of the database running), a failed record made here, so
// that every scheduled run is in the history.
func (e *Engine) recordTry(ctx context.Context, d store.Database, started time.Time, cause error) *store.Backup {
	ctx = context.WithoutCancel(ctx)
	if bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Limit: 5}); err == nil {
		for _, b := range bs {
			if b.Origin == store.OriginScheduled && !b.StartedAt.Before(started.Truncate(time.Millisecond)) {
				return &b
			}
		}
	}
	id, err := format.NewBackupID()
	if err != nil {
		return nil
	}
	now := time.Now().UTC()
	rec := store.Backup{ID: id.String(), DatabaseID: d.ID, Status: store.StatusFailed, Origin: store.OriginScheduled,
		StartedAt: started.UTC(), FinishedAt: now, KeyID: e.key.ID().String(),
		BackupDetails: store.BackupDetails{DatabaseName: d.Name, Error: cause.Error()}}
	if errors.Is(cause, context.Canceled) {
		rec.Status = store.StatusCancelled
	}
	if err := e.store.CreateBackup(ctx, rec); err != nil {
		e.log.Error("record a scheduled backup that could not start", "database", d.Name, "err", err)
		return nil
	}
	if err := e.record(ctx, Event{Action: "backup.failed", Outcome: "failed", Target: d.Name,
		Fields: map[string]string{"backup_id": rec.ID, "origin": store.OriginScheduled}, Message: cause.Error()}); err != nil {
		e.log.Error("audit a scheduled backup that could not start", "database", d.Name, "err", err)
	}
	return &rec
}

// intSetting reads a whole-number setting in [lo, hi]; unset or unreadable
// gives def (a bad value is logged, not fatal: backups go on).
func (e *Engine) intSetting(ctx context.Context, key string, def, lo, hi int) int {
	v, err := e.store.Setting(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.log.Warn("could not read a setting; using its default", "setting", key, "default", def, "err", err)
		}
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.log.Warn(fmt.Sprintf("setting %s is %q, not a whole number from %d to %d; using %d (change it in Settings)", key, v, lo, hi, def))
		return def
	}
	return n
}

// durationSetting reads a duration setting ("90s", "5m"); "0" or "0s" is
// zero.
func (e *Engine) durationSetting(ctx context.Context, key string, def time.Duration) time.Duration {
	v, err := e.store.Setting(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.log.Warn("could not read a setting; using its default", "setting", key, "default", def, "err", err)
		}
		return def
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		e.log.Warn(fmt.Sprintf("setting %s is %q, not a duration such as 30s or 5m; using %s (change it in Settings)", key, v, def))
		return def
	}
	return d
}

// SchedulerClaim is the settings directory's scheduler lock, held by this
// process.
type SchedulerClaim struct{ f *os.File }

// ClaimScheduler takes the settings directory's scheduler lock without
// waiting: it fails at once if another process runs the schedules.
func (e *Engine) ClaimScheduler() (*SchedulerClaim, error) {
	path := filepath.Join(e.home, SchedulerLockFile)
	f, holder, err := filelock.TryLockPID(path)
	if errors.Is(err, filelock.ErrHeld) {
		return nil, fmt.Errorf("another PgSafe%s (its agent or `pgsafe run`) is already running the schedules of %s (%s is locked): let it do the work, or stop it first", pidNote(holder), e.home, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open the scheduler lock %s: %w", path, err)
	}
	return &SchedulerClaim{f: f}, nil
}

// pidNote is " (pid N)" for a known lock holder, "" otherwise.
func pidNote(pid int) string {
	if pid <= 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// Release drops the lock.
func (c *SchedulerClaim) Release() {
	if c != nil {
		c.f.Close()
	}
}
