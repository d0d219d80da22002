package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/schedule"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ScheduleInfo is a database's schedule as the faces show it.
type ScheduleInfo struct {
	Database    string         `json:"database"`
	Schedule    store.Schedule `json:"schedule"`
	Description string         `json:"description"` // "daily at 02:30 (Europe/Berlin)"
	Spec        string         `json:"spec"`        // as `pgsafe schedule set` takes it: "02:30", "mon,fri@02:30"
	// LastBackup is the newest scheduled backup in the history (nil: none).
	LastBackup *store.Backup `json:"last_backup,omitempty"`
	// Problem says why the schedule cannot run, when it cannot.
	Problem string `json:"problem,omitempty"`
}

// SetSchedule sets the named database's schedule (replacing any), computes
// its next run and records the change with the fields that changed. cfg is
// checked first; an unchanged schedule keeps its next run.
func (e *Engine) SetSchedule(ctx context.Context, name string, cfg store.ScheduleConfig) error {
	d, err := e.policyEntry(ctx, name)
	if err != nil {
		return err
	}
	if err := schedule.Validate(cfg); err != nil {
		return fmt.Errorf("schedule of %s: %w", name, err)
	}
	changes, err := e.store.SetSchedule(ctx, d.ID, cfg)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	var next time.Time
	if cfg.Enabled {
		if next, err = schedule.Next(cfg, time.Now()); err != nil {
			return fmt.Errorf("schedule of %s: %w", name, err)
		}
	}
	if err := e.store.MarkScheduleRun(ctx, d.ID, time.Time{}, next); err != nil {
		return err
	}
	fields := map[string]string{"fields": strings.Join(changes, ","), "schedule": schedule.Describe(cfg)}
	if !next.IsZero() {
		fields["next_run"] = next.UTC().Format(time.RFC3339)
	}
	err = e.record(ctx, Event{Action: "schedule.changed", Target: name, Fields: fields})
	e.reloadScheduler()
	return err
}

// ClearSchedule removes the named database's schedule: it is no longer
// backed up on its own.
func (e *Engine) ClearSchedule(ctx context.Context, name string) error {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("db", name)
	} else if err != nil {
		return err
	}
	if err := e.store.ClearSchedule(ctx, d.ID); errors.Is(err, store.ErrNotFound) {
		return noSchedule(name)
	} else if err != nil {
		return err
	}
	err = e.record(ctx, Event{Action: "schedule.cleared", Target: name})
	e.reloadScheduler()
	return err
}

func noSchedule(name string) error {
	return fmt.Errorf("%w: database %s has no schedule (set one with `pgsafe schedule set %s --daily 02:00`, say)", ErrNotFound, name, name)
}

// Schedule is the named database's schedule with its last and next run.
func (e *Engine) Schedule(ctx context.Context, name string) (ScheduleInfo, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return ScheduleInfo{}, notFound("db", name)
	} else if err != nil {
		return ScheduleInfo{}, err
	}
	sc, err := e.store.Schedule(ctx, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ScheduleInfo{}, noSchedule(name)
	} else if err != nil {
		return ScheduleInfo{}, err
	}
	return e.scheduleInfo(ctx, name, sc)
}

// Schedules lists every database's schedule, the soonest next run first.
func (e *Engine) Schedules(ctx context.Context) ([]ScheduleInfo, error) {
	list, err := e.store.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ScheduleInfo, 0, len(list))
	for _, sc := range list {
		d, err := e.store.Database(ctx, sc.DatabaseID)
		if err != nil {
			return nil, err
		}
		info, err := e.scheduleInfo(ctx, d.Name, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (e *Engine) scheduleInfo(ctx context.Context, name string, sc store.Schedule) (ScheduleInfo, error) {
	info := ScheduleInfo{Database: name, Schedule: sc, Description: schedule.Describe(sc.ScheduleConfig), Spec: schedule.Spec(sc.ScheduleConfig)}
	if err := schedule.Validate(sc.ScheduleConfig); err != nil {
		info.Problem = err.Error()
	}
	// The newest scheduled backup: scheduled runs are a minority of a long
	// history only when manual ones abound, so a page of it is enough.
	bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: sc.DatabaseID, Limit: 200})
	if err != nil {
		return info, err
	}
	for _, b := range bs {
		if b.Origin == store.OriginScheduled {
			info.LastBackup = &b
			break
		}
	}
	return info, nil
}

// PauseSchedules pauses every schedule for d (d <= 0: until resumed), in
// this process and in any other running the scheduler (the setting is
// shared; they see it within their heartbeat). Backups in progress go on.
func (e *Engine) PauseSchedules(ctx context.Context, d time.Duration) error {
	var err error
	if s := e.activeScheduler(); s != nil {
		err = s.Pause(ctx, d)
	} else {
		var until time.Time
		if d > 0 {
			until = time.Now().Add(d)
		}
		err = scheduleStore{e.store}.SetSchedulesPaused(ctx, until, true)
	}
	if err != nil {
		return err
	}
	fields := map[string]string{"until": "resumed"}
	if d > 0 {
		fields["until"] = time.Now().Add(d).UTC().Format(time.RFC3339)
	}
	return e.record(ctx, Event{Action: "schedule.paused", Target: "schedules", Fields: fields})
}

// ResumeSchedules ends a pause: slots missed during it run once.
func (e *Engine) ResumeSchedules(ctx context.Context) error {
	var err error
	if s := e.activeScheduler(); s != nil {
		err = s.Resume(ctx)
	} else {
		err = scheduleStore{e.store}.SetSchedulesPaused(ctx, time.Time{}, false)
	}
	if err != nil {
		return err
	}
	return e.record(ctx, Event{Action: "schedule.resumed", Target: "schedules"})
}

// SchedulesPaused says whether schedules are paused and until when (zero:
// until resumed).
func (e *Engine) SchedulesPaused(ctx context.Context) (until time.Time, paused bool, err error) {
	until, paused, err = scheduleStore{e.store}.SchedulesPaused(ctx)
	if paused && !until.IsZero() && !time.Now().Before(until) {
		return time.Time{}, false, err // over
	}
	return until, paused, err
}

// scheduleStore is the settings database as the scheduler's store: the
// schedules themselves, and the pause as the setting schedule.paused_until.
type scheduleStore struct{ *store.Store }

const (
	settingSchedulePaused = "schedule.paused_until"
	pausedIndefinitely    = "until-resumed"
)

func (s scheduleStore) SchedulesPaused(ctx context.Context) (time.Time, bool, error) {
	v, err := s.Setting(ctx, settingSchedulePaused)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v == "") {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, err
	}
	if v == pausedIndefinitely {
		return time.Time{}, true, nil
	}
	until, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("setting %s is %q, not a time: resume the schedules (`pgsafe schedule resume`) to clear it", settingSchedulePaused, v)
	}
	return until, true, nil
}

func (s scheduleStore) SetSchedulesPaused(ctx context.Context, until time.Time, paused bool) error {
	if !paused {
		if err := s.DeleteSetting(ctx, settingSchedulePaused); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	v := pausedIndefinitely
	if !until.IsZero() {
		v = until.UTC().Format(time.RFC3339Nano)
	}
	_, err := s.SetSetting(ctx, settingSchedulePaused, v)
	return err
}
