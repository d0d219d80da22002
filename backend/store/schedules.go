package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// Schedule kinds.
const (
	ScheduleEvery   = "every"   // every Every
	ScheduleDaily   = "daily"   // at At
	ScheduleWeekly  = "weekly"  // on Weekdays at At
	ScheduleMonthly = "monthly" // on DayOfMonth at At
	ScheduleCron    = "cron"    // Cron expression
)

var scheduleKinds = []string{ScheduleEvery, ScheduleDaily, ScheduleWeekly, ScheduleMonthly, ScheduleCron}

// ScheduleConfig is when a database is backed up. Enabled is also a plaintext
// column; the spec is sealed. The schedule package interprets it.
type ScheduleConfig struct {
	Enabled    bool          `json:"enabled"`
	Kind       string        `json:"kind"`
	Every      time.Duration `json:"every,omitempty"`
	At         string        `json:"at,omitempty"`       // "HH:MM"
	Weekdays   []int         `json:"weekdays,omitempty"` // 0 = Sunday
	DayOfMonth int           `json:"day_of_month,omitempty"`
	Cron       string        `json:"cron,omitempty"`
	TimeZone   string        `json:"time_zone,omitempty"` // IANA name; "" = local
}

// Schedule is a database's stored schedule with the scheduler's bookkeeping.
type Schedule struct {
	DatabaseID int64     `json:"database_id"`
	UpdatedAt  time.Time `json:"updated_at"`
	LastRunAt  time.Time `json:"last_run_at"` // zero: never
	NextRunAt  time.Time `json:"next_run_at"` // zero: not computed
	ScheduleConfig
}

func validateSchedule(c *ScheduleConfig) error {
	if !slices.Contains(scheduleKinds, c.Kind) {
		return invalid("kind", "%q is not a schedule kind (%s)", c.Kind, strings.Join(scheduleKinds, ", "))
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return invalid("time_zone", "%q is not a known time zone", c.TimeZone)
		}
	}
	needAt := func() error {
		if _, err := time.Parse("15:04", c.At); err != nil {
			return invalid("at", "%q is not a time of day (HH:MM)", c.At)
		}
		return nil
	}
	switch c.Kind {
	case ScheduleEvery:
		if c.Every < time.Minute {
			return invalid("every", "the interval must be at least a minute")
		}
	case ScheduleDaily:
		return needAt()
	case ScheduleWeekly:
		if len(c.Weekdays) == 0 {
			return invalid("weekdays", "at least one day is required")
		}
		for _, d := range c.Weekdays {
			if d < 0 || d > 6 {
				return invalid("weekdays", "%d is not a weekday (0 = Sunday … 6)", d)
			}
		}
		return needAt()
	case ScheduleMonthly:
		if c.DayOfMonth < 1 || c.DayOfMonth > 31 {
			return invalid("day_of_month", "%d is not a day of the month (1-31)", c.DayOfMonth)
		}
		return needAt()
	case ScheduleCron:
		if strings.TrimSpace(c.Cron) == "" {
			return invalid("cron", "the cron expression is required")
		}
	}
	return nil
}

// SetSchedule creates or replaces database id's schedule and reports the
// changed fields (all of them for a new schedule). The next run is cleared for
// the scheduler to compute again.
func (s *Store) SetSchedule(ctx context.Context, databaseID int64, c ScheduleConfig) (Changes, error) {
	c.Weekdays = slices.Clone(c.Weekdays)
	if err := validateSchedule(&c); err != nil {
		return nil, err
	}
	var changes Changes
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireDatabase(ctx, tx, databaseID); err != nil {
			return err
		}
		old, err := s.schedule(ctx, tx, databaseID)
		switch {
		case errors.Is(err, ErrNotFound):
			changes = diffFields(ScheduleConfig{}, c)
		case err != nil:
			return err
		default:
			changes = diffFields(old.ScheduleConfig, c)
			if len(changes) == 0 {
				return nil
			}
		}
		blob, err := s.sealRow("schedules", rowID(databaseID), c)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schedules(database_id, enabled, last_run_at, next_run_at, updated_at, sealed)
			VALUES (?, ?, NULL, NULL, ?, ?)
			ON CONFLICT(database_id) DO UPDATE SET enabled = excluded.enabled, next_run_at = NULL,
			  updated_at = excluded.updated_at, sealed = excluded.sealed`,
			databaseID, c.Enabled, now(), blob)
		if err != nil {
			return s.wrap("set schedule", err)
		}
		return s.stampRows(ctx, tx, "schedules", "database_id = ?", databaseID)
	})
	return changes, err
}

// ClearSchedule removes database id's schedule; ErrNotFound if it had none.
func (s *Store) ClearSchedule(ctx context.Context, databaseID int64) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		n, err := s.deleteRows(ctx, tx, "schedules", "database_id = ?", databaseID)
		if err != nil {
			return err
		}
		if n == 0 {
			return noSchedule(databaseID)
		}
		return nil
	})
}

// MarkScheduleRun records the scheduler's bookkeeping for database id: when
// it last ran (zero: leave as is) and when it runs next (zero: unknown).
func (s *Store) MarkScheduleRun(ctx context.Context, databaseID int64, lastRun, nextRun time.Time) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		n, err := s.updateRows(ctx, tx, "schedules", "database_id = ?", []any{databaseID}, `last_run_at = coalesce(?, last_run_at), next_run_at = ?`,
			nullTime(lastRun), nullTime(nextRun))
		if err != nil {
			return err
		}
		if n == 0 {
			return noSchedule(databaseID)
		}
		return nil
	})
}

// Schedule returns database id's schedule, or an ErrNotFound error.
func (s *Store) Schedule(ctx context.Context, databaseID int64) (Schedule, error) {
	return s.schedule(ctx, s.db, databaseID)
}

// Schedules lists every schedule, the soonest next run first (unknown next
// runs last).
func (s *Store) Schedules(ctx context.Context) ([]Schedule, error) {
	return s.schedules(ctx, s.db, "ORDER BY next_run_at IS NULL, next_run_at, database_id")
}

func (s *Store) schedule(ctx context.Context, q querier, databaseID int64) (Schedule, error) {
	out, err := s.schedules(ctx, q, "WHERE database_id = ?", databaseID)
	if err != nil {
		return Schedule{}, err
	}
	if len(out) == 0 {
		return Schedule{}, noSchedule(databaseID)
	}
	return out[0], nil
}

func (s *Store) schedules(ctx context.Context, q querier, where string, args ...any) ([]Schedule, error) {
	rs, err := q.QueryContext(ctx, "SELECT database_id, last_run_at, next_run_at, updated_at, sealed"+bindingCols("schedules")+" FROM schedules "+where, args...)
	if err != nil {
		return nil, s.wrap("read schedules", err)
	}
	defer rs.Close()
	var out []Schedule
	for rs.Next() {
		var (
			sc         Schedule
			last, next sql.NullInt64
			upd        int64
			blob       []byte
			b          binding
		)
		if err := rs.Scan(append([]any{&sc.DatabaseID, &last, &next, &upd, &blob}, b.dest()...)...); err != nil {
			return nil, s.wrap("read schedules", err)
		}
		if err := s.openRow("schedules", rowID(sc.DatabaseID), blob, &sc.ScheduleConfig, false); err != nil {
			return nil, err
		}
		if err := s.checkBinding("schedules", &b); err != nil {
			return nil, err
		}
		sc.UpdatedAt, sc.LastRunAt, sc.NextRunAt = fromMillis(upd), timeOf(last), timeOf(next)
		out = append(out, sc)
	}
	return out, rs.Err()
}

func noSchedule(id int64) error { return notFoundf("database %d has no schedule", id) }

// requireDatabase returns an ErrNotFound error unless database id exists.
func (s *Store) requireDatabase(ctx context.Context, q querier, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM databases WHERE id = ?", id).Scan(&n); err != nil {
		return s.wrap("read databases", err)
	}
	if n == 0 {
		return databases.notFound(id)
	}
	return nil
}

func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
