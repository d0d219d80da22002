package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/retention"
	"github.com/pgsafe/pgsafe/backend/schedule"
	"github.com/pgsafe/pgsafe/backend/store"
)

// SchedulePreview is what a schedule would do: when, in words, and its
// next runs.
type SchedulePreview struct {
	Description string
	Next        []time.Time
}

// PreviewSchedule says in words when c runs and its next n runs after
// from; an invalid schedule gets the reason.
func PreviewSchedule(c store.ScheduleConfig, from time.Time, n int) (SchedulePreview, error) {
	if err := schedule.Validate(c); err != nil {
		return SchedulePreview{}, err
	}
	p := SchedulePreview{Description: schedule.Describe(c)}
	t := from
	for range n {
		next, err := schedule.Next(c, t)
		if err != nil {
			return SchedulePreview{}, err
		}
		p.Next = append(p.Next, next)
		t = next
	}
	return p, nil
}

// DefaultSchedule is the schedule offered to a database that has none:
// daily at 02:00, this computer's time.
func DefaultSchedule() store.ScheduleConfig {
	return store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "02:00"}
}

// DescribeRetention says a retention policy in words ("keep all" for the
// zero policy).
func DescribeRetention(p store.RetentionPolicy) string { return retention.Describe(p) }

// ParseScheduleSpec is the schedule a kind ("every", "daily", "weekly",
// "monthly" or "cron") and its spec name, in ScheduleInfo.Spec's notation:
// "6h", "02:30", "mon,fri@02:30", "31@02:30", "0 3 * * *"; tz is an IANA
// zone ("" the machine's local time). It is checked, and its time of day
// written HH:MM. An error names neither the kind nor the spec's field: a
// face says which of its fields it came from.
func ParseScheduleSpec(kind, spec, tz string) (store.ScheduleConfig, error) {
	cfg := store.ScheduleConfig{Enabled: true, Kind: kind, TimeZone: tz}
	splitAt := func(what string) (string, string, error) {
		before, at, ok := strings.Cut(spec, "@")
		if !ok {
			return "", "", fmt.Errorf("%q: use %s@HH:MM", spec, what)
		}
		if _, _, err := schedule.ParseAt(at); err != nil {
			return "", "", err
		}
		return before, at, nil
	}
	switch kind {
	case store.ScheduleEvery:
		d, err := schedule.ParseEvery(spec)
		if err != nil {
			return cfg, err
		}
		cfg.Every = d
	case store.ScheduleDaily:
		if _, _, err := schedule.ParseAt(spec); err != nil {
			return cfg, err
		}
		cfg.At = spec
	case store.ScheduleWeekly:
		days, at, err := splitAt("DAYS")
		if err != nil {
			return cfg, err
		}
		if cfg.Weekdays, err = schedule.ParseDays(days); err != nil {
			return cfg, err
		}
		cfg.At = at
	case store.ScheduleMonthly:
		day, at, err := splitAt("D")
		if err != nil {
			return cfg, err
		}
		n, err := strconv.Atoi(day)
		if err != nil || n < 1 || n > 31 {
			return cfg, fmt.Errorf("%q is not a day of the month (1–31)", day)
		}
		cfg.DayOfMonth, cfg.At = n, at
	case store.ScheduleCron:
		cfg.Cron = spec
	default:
		return cfg, errors.New("a schedule is every, daily, weekly, monthly or cron, not " + strconv.Quote(kind))
	}
	if cfg.At != "" {
		h, m, _ := schedule.ParseAt(cfg.At)
		cfg.At = fmt.Sprintf("%02d:%02d", h, m)
	}
	return cfg, schedule.Validate(cfg)
}

// InZone is t in the schedule's time zone (local time when the zone is
// unknown: ScheduleInfo.Problem says so).
func (i ScheduleInfo) InZone(t time.Time) time.Time {
	loc, err := schedule.Location(i.Schedule.ScheduleConfig)
	if err != nil {
		loc = time.Local
	}
	return t.In(loc)
}

// Interval is an "every" schedule's interval as ParseScheduleSpec reads
// it ("6h", "1d"); "" for the other kinds.
func (i ScheduleInfo) Interval() string {
	if i.Schedule.Kind != store.ScheduleEvery {
		return ""
	}
	return schedule.FormatEvery(i.Schedule.Every)
}
