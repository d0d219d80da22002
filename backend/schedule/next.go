// Package schedule owns when backups run: the next run of a database's
// schedule (Next) in its own time zone, correct across daylight-saving
// changes, and the Scheduler that runs due schedules through an injected Run
// function: missed slots run once on start and on wake from sleep, runs are
// limited in number, failed runs are retried with backoff, and the
// bookkeeping (last and next run) is persisted so it survives restarts. It
// imports no other PgSafe package but store (for the schedule types) and
// knows nothing of backups: the engine wires it (docs/SCHEDULE.md).
package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	// The IANA time zone database inside the binary: Windows has none of its
	// own and a minimal Linux may lack one, and a schedule's "Europe/Berlin"
	// must mean the same everywhere.
	_ "time/tzdata"

	// robfig/cron is the cron parser Kubernetes CronJobs use, so expressions
	// mean here what users know them to mean; it exposes the parsed fields
	// (SpecSchedule's bit sets), so the matching and the daylight-saving rules
	// below are ours and shared with the other kinds. gronx was the
	// alternative; it hides its parsed fields and computes the next time
	// itself, which would leave cron with other DST rules than daily.
	"github.com/robfig/cron/v3"

	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/store"
)

// MinEvery is the shortest interval of an "every" schedule (the store's rule).
const MinEvery = time.Minute

// MaxEvery is the longest: a year and a day. Longer is a typing mistake
// (99999999999d overflowed into a negative interval before this bound).
const MaxEvery = 366 * 24 * time.Hour

// horizon is how far Next looks for a matching day: a cron expression for
// 29 February waits at most eight years (2096 → 2104).
const horizon = 9 * 366

// cronParser takes standard five-field expressions, an optional leading
// seconds field, and the descriptors @yearly … @hourly.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// plan is a parsed schedule: which calendar days match and, on those days,
// which times of day, or a fixed interval.
type plan struct {
	loc   *time.Location
	every time.Duration
	day   func(y int, m time.Month, d int, wd time.Weekday) bool
	// times yields the matching times of day in ascending order until yield
	// returns false.
	times func(yield func(h, m, s int) bool)
}

// Location is the schedule's time zone ("" is the machine's local zone).
func Location(cfg store.ScheduleConfig) (*time.Location, error) {
	if cfg.TimeZone == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known time zone: use an IANA name such as Europe/Berlin or America/New_York", cfg.TimeZone)
	}
	return loc, nil
}

// Validate reports whether cfg is a schedule PgSafe can run, saying what to
// change when not.
func Validate(cfg store.ScheduleConfig) error {
	_, err := parse(cfg)
	return err
}

// Next is the first run of cfg strictly after after, in the schedule's time
// zone.
//
// Kind "every" runs at after + Every (real elapsed time, unaffected by
// daylight saving). The calendar kinds (daily, weekly, monthly, cron) run at
// wall-clock times of their zone, with two rules for the days the clocks
// change:
//   - a time that does not exist (skipped when clocks go forward, such as
//     02:30 in Berlin on the last Sunday of March) runs at the instant the
//     clocks jump (03:00 there): once, and that day;
//   - a time that happens twice (the hour repeated when clocks go back) runs
//     only the first time.
//
// Monthly on a day the month lacks (29–31) runs on the month's last day:
// "monthly on the 31st" means "at the end of every month", never a skipped
// month.
func Next(cfg store.ScheduleConfig, after time.Time) (time.Time, error) {
	p, err := parse(cfg)
	if err != nil {
		return time.Time{}, err
	}
	return p.next(after)
}

func (p *plan) next(after time.Time) (time.Time, error) {
	if p.every > 0 {
		return after.Add(p.every).In(p.loc), nil
	}
	a := after.In(p.loc)
	// Start a day early: the first day's times are resolved and compared as
	// instants, so nothing is lost, and a time zone change never hides a day.
	y, m, d := a.AddDate(0, 0, -1).Date()
	for i := 0; i < horizon; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		dy, dm, dd := day.Date()
		if !p.day(dy, dm, dd, day.Weekday()) {
			continue
		}
		// Skip the day when even its last second is not after after.
		if !resolve(dy, dm, dd, 23, 59, 59, p.loc).After(after) {
			continue
		}
		var found time.Time
		p.times(func(h, mi, s int) bool {
			// Whole hours and minutes that are over are skipped cheaply.
			if !resolve(dy, dm, dd, h, 59, 59, p.loc).After(after) {
				return true
			}
			if !resolve(dy, dm, dd, h, mi, 59, p.loc).After(after) {
				return true
			}
			if t := resolve(dy, dm, dd, h, mi, s, p.loc); t.After(after) {
				found = t
				return false
			}
			return true
		})
		if !found.IsZero() {
			return found, nil
		}
	}
	return time.Time{}, errors.New("this schedule matches no date in the next nine years (a cron expression for 30 February, say): change it")
}

// resolve is the instant a wall-clock time of loc stands for: its first
// occurrence when it happens twice, and the instant the clocks jump when it
// does not happen at all.
func resolve(y int, mo time.Month, d, h, mi, s int, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	if loc == time.UTC {
		return naive
	}
	// The zone's offsets and transitions around that wall time.
	var (
		offsets     []int
		transitions []time.Time
	)
	end := naive.Add(30 * time.Hour)
	t := naive.Add(-30 * time.Hour).In(loc)
	for {
		_, off := t.Zone()
		if !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
		_, zoneEnd := t.ZoneBounds()
		if zoneEnd.IsZero() || zoneEnd.After(end) || !zoneEnd.After(t) {
			break
		}
		transitions = append(transitions, zoneEnd)
		t = zoneEnd.In(loc)
	}
	var first time.Time
	for _, off := range offsets {
		c := naive.Add(-time.Duration(off) * time.Second)
		if wall(c.In(loc)).Equal(naive) && (first.IsZero() || c.Before(first)) {
			first = c
		}
	}
	if !first.IsZero() {
		return first.In(loc)
	}
	for _, tr := range transitions {
		if wall(tr.Add(-time.Second).In(loc)).Before(naive) && wall(tr.In(loc)).After(naive) {
			return tr.In(loc)
		}
	}
	// Not reached for real zones; Go's own normalisation as a last resort.
	return time.Date(y, mo, d, h, mi, s, 0, loc)
}

// wall is t's wall-clock reading as a UTC time, for comparing readings.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// DaysIn is the number of days of month m of year y.
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parse(cfg store.ScheduleConfig) (*plan, error) {
	loc, err := Location(cfg)
	if err != nil {
		return nil, err
	}
	p := &plan{loc: loc}
	anyDay := func(int, time.Month, int, time.Weekday) bool { return true }
	switch cfg.Kind {
	case store.ScheduleEvery:
		if cfg.Every > MaxEvery {
			return nil, fmt.Errorf("every %s is too rare: the interval must be at most %s", human.Duration(cfg.Every), human.Duration(MaxEvery))
		}
		if cfg.Every < MinEvery {
			return nil, fmt.Errorf("every %s is too often: the interval must be at least %s", human.Duration(cfg.Every), human.Duration(MinEvery))
		}
		p.every = cfg.Every
		return p, nil
	case store.ScheduleDaily:
		p.day = anyDay
	case store.ScheduleWeekly:
		if len(cfg.Weekdays) == 0 {
			return nil, errors.New("a weekly schedule needs at least one day (mon … sun, or 0 … 6 with 0 = Sunday)")
		}
		var set [7]bool
		for _, d := range cfg.Weekdays {
			if d < 0 || d > 6 {
				return nil, fmt.Errorf("%d is not a weekday: use 0 (Sunday) … 6 (Saturday)", d)
			}
			set[d] = true
		}
		p.day = func(_ int, _ time.Month, _ int, wd time.Weekday) bool { return set[wd] }
	case store.ScheduleMonthly:
		dom := cfg.DayOfMonth
		if dom < 1 || dom > 31 {
			return nil, fmt.Errorf("%d is not a day of the month: use 1 … 31 (29–31 mean the last day in shorter months)", dom)
		}
		p.day = func(y int, m time.Month, d int, _ time.Weekday) bool { return d == min(dom, DaysIn(y, m)) }
	case store.ScheduleCron:
		return parseCron(cfg.Cron, p)
	default:
		return nil, fmt.Errorf("%q is not a schedule kind: use every, daily, weekly, monthly or cron", cfg.Kind)
	}
	h, mi, err := ParseAt(cfg.At)
	if err != nil {
		return nil, err
	}
	p.times = func(yield func(h, m, s int) bool) { yield(h, mi, 0) }
	return p, nil
}

func parseCron(expr string, p *plan) (pl *plan, err error) {
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return nil, errors.New("the cron expression is empty: give five fields (minute hour day-of-month month day-of-week), e.g. \"0 3 * * *\"")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, errors.New("put the time zone in the schedule's time zone (--tz), not in the cron expression")
	case strings.HasPrefix(expr, "@every"):
		return nil, errors.New("@every is not a calendar schedule: use the \"every\" kind (--every) instead")
	}
	defer func() {
		if r := recover(); r != nil { // the parser must never take the app down
			pl, err = nil, fmt.Errorf("cron expression %q cannot be read (%v)", expr, r)
		}
	}()
	s, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q cannot be read: %v (five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\")", expr, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("cron expression %q is not a calendar schedule", expr)
	}
	const star = 1 << 63
	p.day = func(_ int, m time.Month, d int, wd time.Weekday) bool {
		if spec.Month&(1<<uint(m)) == 0 {
			return false
		}
		// Cron's rule: when both day fields are restricted, either matches.
		domMatch, dowMatch := spec.Dom&(1<<uint(d)) != 0, spec.Dow&(1<<uint(wd)) != 0
		if spec.Dom&star != 0 || spec.Dow&star != 0 {
			return domMatch && dowMatch
		}
		return domMatch || dowMatch
	}
	p.times = func(yield func(h, m, s int) bool) {
		for h := 0; h < 24; h++ {
			if spec.Hour&(1<<uint(h)) == 0 {
				continue
			}
			for mi := 0; mi < 60; mi++ {
				if spec.Minute&(1<<uint(mi)) == 0 {
					continue
				}
				for s := 0; s < 60; s++ {
					if spec.Second&(1<<uint(s)) == 0 {
						continue
					}
					if !yield(h, mi, s) {
						return
					}
				}
			}
		}
	}
	// An expression that never matches (30 February) is refused now rather
	// than found out at run time.
	if _, err := p.next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return nil, fmt.Errorf("cron expression %q never runs: it matches no date in nine years", expr)
	}
	return p, nil
}

// ParseAt reads a time of day "HH:MM" (24-hour clock).
func ParseAt(at string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", strings.TrimSpace(at))
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not a time of day: use HH:MM on a 24-hour clock, e.g. 02:30", at)
	}
	return t.Hour(), t.Minute(), nil
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDays reads a list of weekdays: names (mon,wed,fri; full names too) or
// numbers (1,3,5 with 0 or 7 = Sunday). The result is sorted, without
// repeats, 0 = Sunday.
func ParseDays(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		d := -1
		if n, err := strconv.Atoi(f); err == nil {
			if n >= 0 && n <= 7 {
				d = n % 7
			}
		} else {
			for i, name := range dayNames {
				if f == name || f == strings.ToLower(time.Weekday(i).String()) {
					d = i
				}
			}
		}
		if d < 0 {
			return nil, fmt.Errorf("%q is not a weekday: use mon,tue,wed,thu,fri,sat,sun or 0 … 7 (0 and 7 = Sunday)", f)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Describe says cfg in words: "daily at 02:30 (Europe/Berlin)".
func Describe(cfg store.ScheduleConfig) string {
	var s string
	switch cfg.Kind {
	case store.ScheduleEvery:
		s = "every " + human.Duration(cfg.Every)
	case store.ScheduleDaily:
		s = "daily at " + cfg.At
	case store.ScheduleWeekly:
		days := make([]string, len(cfg.Weekdays))
		for i, d := range cfg.Weekdays {
			if d >= 0 && d <= 6 {
				days[i] = time.Weekday(d).String()[:3]
			} else {
				days[i] = strconv.Itoa(d)
			}
		}
		s = "weekly on " + strings.Join(days, ", ") + " at " + cfg.At
	case store.ScheduleMonthly:
		s = fmt.Sprintf("monthly on day %d at %s", cfg.DayOfMonth, cfg.At)
		if cfg.DayOfMonth > 28 {
			s += " (the last day in shorter months)"
		}
	case store.ScheduleCron:
		s = fmt.Sprintf("cron %q", cfg.Cron)
	default:
		s = cfg.Kind
	}
	if cfg.Kind != store.ScheduleEvery {
		if cfg.TimeZone != "" {
			s += " (" + cfg.TimeZone + ")"
		} else {
			s += " (local time)"
		}
	}
	if !cfg.Enabled {
		s += ", disabled"
	}
	return s
}

// Spec is cfg's spec as `pgsafe schedule set` takes it after its kind's
// flag: "6h", "02:30", "mon,fri@02:30", "31@02:30", "0 3 * * *".
func Spec(cfg store.ScheduleConfig) string {
	switch cfg.Kind {
	case store.ScheduleEvery:
		return FormatEvery(cfg.Every)
	case store.ScheduleDaily:
		return cfg.At
	case store.ScheduleWeekly:
		days := make([]string, len(cfg.Weekdays))
		for i, d := range cfg.Weekdays {
			if d >= 0 && d <= 6 {
				days[i] = dayNames[d]
			} else {
				days[i] = strconv.Itoa(d)
			}
		}
		return strings.Join(days, ",") + "@" + cfg.At
	case store.ScheduleMonthly:
		return strconv.Itoa(cfg.DayOfMonth) + "@" + cfg.At
	case store.ScheduleCron:
		return cfg.Cron
	}
	return ""
}

// ParseEvery reads an interval: a Go duration (90m, 6h, 1h30m) or whole days
// (1d, 7d).
func ParseEvery(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	tooLong := fmt.Errorf("%q is longer than the longest interval, %s: use --daily, --weekly or --monthly for rare backups", s, FormatEvery(MaxEvery))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.ParseInt(n, 10, 64); err == nil && days > 0 {
			if days > int64(MaxEvery/(24*time.Hour)) {
				return 0, tooLong
			}
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not an interval: use e.g. 30m, 6h, 1h30m or 1d", s)
	}
	if d > MaxEvery {
		return 0, tooLong
	}
	return d, nil
}

// FormatEvery prints an interval the way ParseEvery reads it: "6h", "1h30m",
// "2d".
func FormatEvery(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
