package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ScheduleService is when databases are backed up and how long backups are
// kept: each database's schedule and retention, and pausing schedules.
type ScheduleService struct{ core *Core }

// NewScheduleService returns the service bound as ScheduleService.
func NewScheduleService(c *Core) *ScheduleService { return &ScheduleService{core: c} }

// ScheduleForm is the schedule editor: Kind every|daily|weekly|monthly|cron.
type ScheduleForm struct {
	Enabled      bool   `json:"enabled"`
	Kind         string `json:"kind"`
	EveryMinutes int    `json:"everyMinutes"`
	At           string `json:"at"`       // "HH:MM"
	Weekdays     []int  `json:"weekdays"` // 0 = Sunday
	DayOfMonth   int    `json:"dayOfMonth"`
	Cron         string `json:"cron"`
	TimeZone     string `json:"timeZone"` // "" = this computer's
}

// ScheduleView is a database's schedule as the UI shows it.
type ScheduleView struct {
	Set         bool         `json:"set"`
	Form        ScheduleForm `json:"form"`
	Description string       `json:"description"`
	LastRun     time.Time    `json:"lastRun"`
	NextRun     time.Time    `json:"nextRun"`
	Problem     string       `json:"problem,omitempty"`
}

func (f ScheduleForm) config() store.ScheduleConfig {
	return store.ScheduleConfig{Enabled: f.Enabled, Kind: f.Kind, Every: time.Duration(f.EveryMinutes) * time.Minute,
		At: strings.TrimSpace(f.At), Weekdays: f.Weekdays, DayOfMonth: f.DayOfMonth, Cron: strings.TrimSpace(f.Cron), TimeZone: strings.TrimSpace(f.TimeZone)}
}

func formOf(c store.ScheduleConfig) ScheduleForm {
	f := ScheduleForm{Enabled: c.Enabled, Kind: c.Kind, EveryMinutes: int(c.Every / time.Minute), At: c.At,
		Weekdays: c.Weekdays, DayOfMonth: c.DayOfMonth, Cron: c.Cron, TimeZone: c.TimeZone}
	if f.Weekdays == nil {
		f.Weekdays = []int{}
	}
	return f
}

// Get is the named database's schedule (Set false: none).
func (s *ScheduleService) Get(db string) (ScheduleView, error) {
	e, err := s.core.engine()
	if err != nil {
		return ScheduleView{}, err
	}
	info, err := e.Schedule(context.Background(), db)
	var noDB *engine.NotFoundError
	switch {
	case errors.As(err, &noDB): // no such database
		return ScheduleView{}, err
	case errors.Is(err, engine.ErrNotFound): // no schedule yet: the form's defaults
		return ScheduleView{Form: formOf(engine.DefaultSchedule())}, nil
	case err != nil:
		return ScheduleView{}, err
	}
	return ScheduleView{Set: true, Form: formOf(info.Schedule.ScheduleConfig), Description: info.Description,
		LastRun: info.Schedule.LastRunAt, NextRun: info.Schedule.NextRunAt, Problem: info.Problem}, nil
}

// SchedulePreview is what a schedule form would do: when, in words, and
// its next runs (the window writes them in the user's locale).
type SchedulePreview struct {
	Description string   `json:"description"`
	Next        []string `json:"next"` // RFC 3339
}

// Describe says in words when the form would run, and its next three runs;
// an invalid form gets the reason.
func (s *ScheduleService) Describe(f ScheduleForm) (SchedulePreview, error) {
	p, err := engine.PreviewSchedule(f.config(), time.Now(), 3)
	if err != nil {
		return SchedulePreview{}, err
	}
	v := SchedulePreview{Description: p.Description}
	for _, n := range p.Next {
		v.Next = append(v.Next, n.UTC().Format(time.RFC3339))
	}
	return v, nil
}

// Set saves the named database's schedule.
func (s *ScheduleService) Set(db string, f ScheduleForm) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.SetSchedule(context.Background(), db, f.config())
}

// Clear removes the named database's schedule.
func (s *ScheduleService) Clear(db string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.ClearSchedule(context.Background(), db)
}

// SchedulerStatus is whether scheduled backups run, and the next one.
type SchedulerStatus struct {
	Running     bool      `json:"running"`
	Problem     string    `json:"problem,omitempty"` // why they do not run here
	Paused      bool      `json:"paused"`
	PausedUntil time.Time `json:"pausedUntil"` // zero while paused: until resumed
	Next        string    `json:"next,omitempty"`
	// NextDatabase is backed up next, at NextRun (zero: none scheduled,
	// or paused); the window writes the time in the user's locale.
	NextDatabase string    `json:"nextDatabase,omitempty"`
	NextRun      time.Time `json:"nextRun"`
}

// Status is the scheduler's state for the Overview and the tray.
func (s *ScheduleService) Status() (SchedulerStatus, error) {
	e, err := s.core.engine()
	if err != nil {
		return SchedulerStatus{}, err
	}
	ctx := context.Background()
	st := SchedulerStatus{Problem: s.core.SchedulerError()}
	st.Running = st.Problem == ""
	if st.PausedUntil, st.Paused, err = e.SchedulesPaused(ctx); err != nil {
		return st, err
	}
	st.Next = s.core.NextBackup()
	if !st.Paused {
		list, err := e.Schedules(ctx)
		if err != nil {
			return st, err
		}
		for _, sc := range list { // soonest first
			if sc.Schedule.Enabled && !sc.Schedule.NextRunAt.IsZero() && sc.Problem == "" {
				st.NextDatabase, st.NextRun = sc.Database, sc.Schedule.NextRunAt
				break
			}
		}
	}
	return st, nil
}

// Pause pauses every schedule for minutes (0: until resumed).
func (s *ScheduleService) Pause(minutes int) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.PauseSchedules(context.Background(), time.Duration(minutes)*time.Minute)
}

// Resume ends a pause.
func (s *ScheduleService) Resume() error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.ResumeSchedules(context.Background())
}

// RetentionView is a database's retention policy and its description.
type RetentionView struct {
	Policy      store.RetentionPolicy `json:"policy"`
	Description string                `json:"description"`
	// LockAdvice: where a storage's Object Lock and the policy do not fit
	// ("storage vault: the storage's lock (7 days) is shorter than …").
	LockAdvice []string `json:"lockAdvice"`
}

// Retention is the named database's retention policy (zero: keep all).
func (s *ScheduleService) Retention(db string) (RetentionView, error) {
	e, err := s.core.engine()
	if err != nil {
		return RetentionView{}, err
	}
	p, err := e.Retention(context.Background(), db)
	if err != nil {
		return RetentionView{}, err
	}
	advice, err := e.RetentionLockAdvice(context.Background(), db, p)
	return RetentionView{Policy: p, Description: engine.DescribeRetention(p), LockAdvice: advice}, err
}

// SetRetention saves the named database's retention policy; it applies
// after the next successful backup.
func (s *ScheduleService) SetRetention(db string, p store.RetentionPolicy) (RetentionView, error) {
	e, err := s.core.engine()
	if err != nil {
		return RetentionView{}, err
	}
	if err := e.SetRetention(context.Background(), db, p); err != nil {
		return RetentionView{}, err
	}
	advice, err := e.RetentionLockAdvice(context.Background(), db, p)
	return RetentionView{Policy: p, Description: engine.DescribeRetention(p), LockAdvice: advice}, err
}
