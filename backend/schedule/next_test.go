package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func daily(at, tz string) store.ScheduleConfig {
	return store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: at, TimeZone: tz}
}

func cronCfg(expr, tz string) store.ScheduleConfig {
	return store.ScheduleConfig{Enabled: true, Kind: store.ScheduleCron, Cron: expr, TimeZone: tz}
}

// seq is the first n runs of cfg after after.
func seq(t *testing.T, cfg store.ScheduleConfig, after time.Time, n int) []time.Time {
	t.Helper()
	var out []time.Time
	for range n {
		next, err := Next(cfg, after)
		if err != nil {
			t.Fatalf("Next(%+v, %s): %v", cfg, after, err)
		}
		if !next.After(after) {
			t.Fatalf("Next(%s) = %s is not after it", after, next)
		}
		out = append(out, next)
		after = next
	}
	return out
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func wantTimes(t *testing.T, got []time.Time, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d times, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(utc(want[i])) {
			var g []string
			for _, x := range got {
				g = append(g, x.UTC().Format(time.RFC3339)+" ("+x.Format("15:04:05 MST")+")")
			}
			t.Fatalf("run %d is %s, want %s\nall: %s", i, got[i].UTC().Format(time.RFC3339), want[i], strings.Join(g, ", "))
		}
	}
}

// Berlin 2025: clocks go forward on 30 March at 02:00 CET (01:00 UTC) to
// 03:00 CEST, and back on 26 October at 03:00 CEST (01:00 UTC) to 02:00 CET.
// New York 2025: forward on 9 March at 02:00 EST (07:00 UTC), back on
// 2 November at 02:00 EDT (06:00 UTC).
func TestNextDailyAcrossDST(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	cases := []struct {
		name  string
		cfg   store.ScheduleConfig
		after time.Time
		want  []string
	}{
		{"Berlin spring-forward: 02:30 does not exist, runs once at 03:00 CEST", daily("02:30", "Europe/Berlin"),
			time.Date(2025, 3, 29, 3, 0, 0, 0, berlin),
			[]string{"2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z", "2025-04-01T00:30:00Z"}},
		{"Berlin fall-back: 02:30 happens twice, runs once (the first)", daily("02:30", "Europe/Berlin"),
			time.Date(2025, 10, 25, 3, 0, 0, 0, berlin),
			[]string{"2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z", "2025-10-28T01:30:00Z"}},
		{"Berlin 02:00 on spring-forward day is the jump itself", daily("02:00", "Europe/Berlin"),
			time.Date(2025, 3, 29, 12, 0, 0, 0, berlin),
			[]string{"2025-03-30T01:00:00Z", "2025-03-31T00:00:00Z"}},
		{"Berlin 03:00 on fall-back day exists once", daily("03:00", "Europe/Berlin"),
			time.Date(2025, 10, 25, 12, 0, 0, 0, berlin),
			[]string{"2025-10-26T02:00:00Z", "2025-10-27T02:00:00Z"}},
		{"New York spring-forward: 02:30 runs at 03:00 EDT", daily("02:30", "America/New_York"),
			utc("2025-03-08T12:00:00Z"),
			[]string{"2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"}},
		{"New York fall-back: 01:30 runs once, in EDT", daily("01:30", "America/New_York"),
			utc("2025-11-01T12:00:00Z"),
			[]string{"2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"}},
		{"after the first 01:30 of fall-back day, the second is skipped", daily("01:30", "America/New_York"),
			utc("2025-11-02T05:30:00Z"),
			[]string{"2025-11-03T06:30:00Z"}},
		{"a scheduler starting between the two 01:30s does not run the second", daily("01:30", "America/New_York"),
			utc("2025-11-02T06:10:00Z"), // 01:10 EST, after the first 01:30 EDT
			[]string{"2025-11-03T06:30:00Z"}},
		{"UTC", daily("23:59", "UTC"), utc("2025-12-31T23:59:00Z"),
			[]string{"2026-01-01T23:59:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantTimes(t, seq(t, c.cfg, c.after, len(c.want)), c.want...)
		})
	}
}

// A daily schedule runs exactly once on every calendar day of its zone, at
// its time or (when that time does not exist that day) at the jump, over two
// years of DST changes, in zones with one-hour, half-hour and no DST.
func TestNextDailyOncePerDay(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "UTC"}
	ats := []string{"00:00", "00:30", "01:00", "01:30", "02:00", "02:15", "02:30", "03:00", "12:00", "23:30"}
	for _, z := range zones {
		loc := zone(t, z)
		for _, at := range ats {
			cfg := daily(at, z)
			h, m, _ := ParseAt(at)
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Add(-time.Second)
			runs := seq(t, cfg, start, 731) // 2024 (leap) and 2025
			for i, r := range runs {
				l := r.In(loc)
				want := time.Date(2024, 1, 1+i, 12, 0, 0, 0, time.UTC)
				if l.Year() != want.Year() || l.Month() != want.Month() || l.Day() != want.Day() {
					t.Fatalf("%s daily %s: run %d on %s, want %s", z, at, i, l, want.Format(time.DateOnly))
				}
				if l.Hour() != h || l.Minute() != m {
					// Only where the time did not exist: then the run is the
					// instant the clocks jumped over it.
					before := r.Add(-time.Second).In(loc)
					_, offBefore := before.Zone()
					_, offAt := l.Zone()
					planned := time.Date(l.Year(), l.Month(), l.Day(), h, m, 0, 0, time.UTC)
					if offBefore >= offAt || !wall(before).Before(planned) || !wall(l).After(planned) {
						t.Fatalf("%s daily %s: ran at %s", z, at, l)
					}
				}
			}
		}
	}
}

func TestNextWeekly(t *testing.T) {
	ny := zone(t, "America/New_York")
	cfg := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleWeekly, Weekdays: []int{1, 3, 5}, At: "09:00", TimeZone: "America/New_York"}
	// Sunday 2 November 2025, the fall-back day.
	got := seq(t, cfg, time.Date(2025, 11, 2, 0, 0, 0, 0, ny), 4)
	wantTimes(t, got, "2025-11-03T14:00:00Z", "2025-11-05T14:00:00Z", "2025-11-07T14:00:00Z", "2025-11-10T14:00:00Z")
	sunday := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleWeekly, Weekdays: []int{0}, At: "02:30", TimeZone: "Europe/Berlin"}
	// Sundays: the 30 March run is at the jump.
	wantTimes(t, seq(t, sunday, utc("2025-03-20T00:00:00Z"), 3), "2025-03-23T01:30:00Z", "2025-03-30T01:00:00Z", "2025-04-06T00:30:00Z")
}

// Monthly on a day the month lacks runs on its last day: never a skipped
// month, never a run spilling into the next month.
func TestNextMonthlyShortMonths(t *testing.T) {
	cfg := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleMonthly, DayOfMonth: 31, At: "02:00", TimeZone: "UTC"}
	wantTimes(t, seq(t, cfg, utc("2024-01-01T00:00:00Z"), 13),
		"2024-01-31T02:00:00Z", "2024-02-29T02:00:00Z", "2024-03-31T02:00:00Z", "2024-04-30T02:00:00Z",
		"2024-05-31T02:00:00Z", "2024-06-30T02:00:00Z", "2024-07-31T02:00:00Z", "2024-08-31T02:00:00Z",
		"2024-09-30T02:00:00Z", "2024-10-31T02:00:00Z", "2024-11-30T02:00:00Z", "2024-12-31T02:00:00Z",
		"2025-01-31T02:00:00Z")
	cfg.DayOfMonth = 30
	wantTimes(t, seq(t, cfg, utc("2025-01-31T00:00:00Z"), 3), "2025-02-28T02:00:00Z",
		"2025-03-30T02:00:00Z", "2025-04-30T02:00:00Z")
	cfg.DayOfMonth = 1
	wantTimes(t, seq(t, cfg, utc("2025-01-31T00:00:00Z"), 2), "2025-02-01T02:00:00Z", "2025-03-01T02:00:00Z")
	// Monthly on the 30th at 02:30 in Berlin: 30 March 2025 is the
	// spring-forward day, so that month's run is at the jump.
	ber := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleMonthly, DayOfMonth: 30, At: "02:30", TimeZone: "Europe/Berlin"}
	wantTimes(t, seq(t, ber, utc("2025-02-01T00:00:00Z"), 3), "2025-02-28T01:30:00Z", "2025-03-30T01:00:00Z", "2025-04-30T00:30:00Z")
}

func TestNextEvery(t *testing.T) {
	cfg := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: time.Hour, TimeZone: "America/New_York"}
	// Real elapsed hours across the fall-back: 01:00 EDT, 01:00 EST, 02:00 EST.
	wantTimes(t, seq(t, cfg, utc("2025-11-02T04:00:00Z"), 3), "2025-11-02T05:00:00Z", "2025-11-02T06:00:00Z", "2025-11-02T07:00:00Z")
	cfg.Every = 30 * time.Second
	if _, err := Next(cfg, time.Now()); err == nil || !strings.Contains(err.Error(), "every 30 s is too often: the interval must be at least 1 min") {
		t.Fatalf("every 30s: %v", err)
	}
}

func TestNextCron(t *testing.T) {
	cases := []struct {
		name, expr, tz, after string
		want                  []string
	}{
		{"daily cron in Berlin spring-forward", "30 2 * * *", "Europe/Berlin", "2025-03-29T02:00:00Z",
			[]string{"2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z"}},
		{"every quarter hour of a missing hour runs once, at the jump", "*/15 2 * * *", "Europe/Berlin", "2025-03-29T23:00:00Z",
			[]string{"2025-03-30T01:00:00Z", "2025-03-31T00:00:00Z", "2025-03-31T00:15:00Z"}},
		{"hourly in New York spring-forward: 02:00 and 03:00 are one instant", "0 * * * *", "America/New_York", "2025-03-09T05:30:00Z",
			[]string{"2025-03-09T06:00:00Z", "2025-03-09T07:00:00Z", "2025-03-09T08:00:00Z"}},
		{"hourly in New York fall-back: the repeated 01:00 runs once", "0 * * * *", "America/New_York", "2025-11-02T03:30:00Z",
			[]string{"2025-11-02T04:00:00Z", "2025-11-02T05:00:00Z", "2025-11-02T07:00:00Z"}},
		{"seconds field", "*/2 * * * * *", "UTC", "2025-05-05T10:00:00.5Z",
			[]string{"2025-05-05T10:00:02Z", "2025-05-05T10:00:04Z"}},
		{"day of month or weekday (cron's rule)", "0 0 13 * 5", "UTC", "2025-06-01T00:00:00Z",
			[]string{"2025-06-06T00:00:00Z", "2025-06-13T00:00:00Z", "2025-06-20T00:00:00Z"}},
		{"day of month and every weekday", "0 0 13 * *", "UTC", "2025-06-01T00:00:00Z",
			[]string{"2025-06-13T00:00:00Z", "2025-07-13T00:00:00Z"}},
		{"29 February waits for a leap year", "0 3 29 2 *", "UTC", "2025-01-01T00:00:00Z",
			[]string{"2028-02-29T03:00:00Z", "2032-02-29T03:00:00Z"}},
		{"names", "0 4 * jan,jul sun", "UTC", "2025-06-30T00:00:00Z",
			[]string{"2025-07-06T04:00:00Z"}},
		{"descriptor", "@weekly", "UTC", "2025-06-04T00:00:00Z",
			[]string{"2025-06-08T00:00:00Z", "2025-06-15T00:00:00Z"}},
		{"midnight every day of the year, fast", "0 0 * * *", "UTC", "2025-12-31T00:00:00Z",
			[]string{"2026-01-01T00:00:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantTimes(t, seq(t, cronCfg(c.expr, c.tz), utc(c.after), len(c.want)), c.want...)
		})
	}
	// Every second, all day: still quick.
	start := time.Now()
	runs := seq(t, cronCfg("* * * * * *", "Europe/Berlin"), utc("2025-03-30T00:59:58Z"), 4)
	wantTimes(t, runs, "2025-03-30T00:59:59Z", "2025-03-30T01:00:00Z", "2025-03-30T01:00:01Z", "2025-03-30T01:00:02Z")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("four every-second runs took %s", d)
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]store.ScheduleConfig{
		"is not a schedule kind":       {Kind: "hourly"},
		"not a time of day":            {Kind: store.ScheduleDaily, At: "25:00"},
		"needs at least one day":       {Kind: store.ScheduleWeekly, At: "02:00"},
		"7 is not a weekday":           {Kind: store.ScheduleWeekly, At: "02:00", Weekdays: []int{7}},
		"32 is not a day of the month": {Kind: store.ScheduleMonthly, At: "02:00", DayOfMonth: 32},
		"not a known time zone":        {Kind: store.ScheduleDaily, At: "02:00", TimeZone: "Mars/Olympus"},
		"the cron expression is empty": {Kind: store.ScheduleCron},
		"cannot be read":               {Kind: store.ScheduleCron, Cron: "61 * * * *"},
		"five fields":                  {Kind: store.ScheduleCron, Cron: "* * *"},
		"never runs":                   {Kind: store.ScheduleCron, Cron: "0 0 30 2 *"},
		"not in the cron expression":   {Kind: store.ScheduleCron, Cron: "TZ=UTC 0 0 * * *"},
		"use the \"every\" kind":       {Kind: store.ScheduleCron, Cron: "@every 1h"},
		"every 1 s is too often: the interval must be at least 1 min": {Kind: store.ScheduleEvery, Every: time.Second},
		"every 0 s is too often":   {Kind: store.ScheduleEvery},
		"must be at most 366 days": {Kind: store.ScheduleEvery, Every: 400 * 24 * time.Hour},
	}
	for want, cfg := range bad {
		if err := Validate(cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want it to say %q", cfg, err, want)
		}
	}
	for _, expr := range []string{"TZ=", "CRON_TZ=x", "@", "*/0 * * * *", "1-2-3 * * * *", "a b c d e", "0 0 * * 8", "  "} {
		if err := Validate(cronCfg(expr, "")); err == nil {
			t.Errorf("cron %q accepted", expr)
		}
	}
	if loc, err := Location(store.ScheduleConfig{}); err != nil || loc != time.Local {
		t.Fatalf("no time zone is local time: %v %v", loc, err)
	}
}

func TestParseAndFormat(t *testing.T) {
	days, err := ParseDays("mon, Wed,fri,monday")
	if err != nil || len(days) != 3 || days[0] != 1 || days[1] != 3 || days[2] != 5 {
		t.Fatalf("ParseDays: %v %v", days, err)
	}
	if days, err := ParseDays("7,0,6"); err != nil || len(days) != 2 || days[0] != 0 || days[1] != 6 {
		t.Fatalf("ParseDays numbers: %v %v", days, err)
	}
	for _, bad := range []string{"", "mo", "8", "mon,,fri", "funday"} {
		if _, err := ParseDays(bad); err == nil {
			t.Errorf("ParseDays(%q) accepted", bad)
		}
	}
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "6h": 6 * time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour} {
		if got, err := ParseEvery(in); err != nil || got != want {
			t.Errorf("ParseEvery(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0d", "-1h", "soon", "1w", "99999999999d", "367d", "9000h", "9223372036854775807d"} {
		if _, err := ParseEvery(bad); err == nil {
			t.Errorf("ParseEvery(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]string{6 * time.Hour: "6h", 90 * time.Minute: "1h30m", 48 * time.Hour: "2d", 5 * time.Minute: "5m", 25 * time.Hour: "25h"} {
		if got := FormatEvery(d); got != want {
			t.Errorf("FormatEvery(%s) = %q, want %q", d, got, want)
		}
		if back, err := ParseEvery(FormatEvery(d)); err != nil || back != d {
			t.Errorf("ParseEvery(FormatEvery(%s)) = %s %v", d, back, err)
		}
	}
	cases := []struct {
		cfg        store.ScheduleConfig
		spec, desc string
	}{
		{store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: 6 * time.Hour}, "6h", "every 6 h"},
		{store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: 90 * time.Minute}, "1h30m", "every 1 h 30 min"},
		{daily("02:30", "Europe/Berlin"), "02:30", "daily at 02:30 (Europe/Berlin)"},
		{store.ScheduleConfig{Enabled: true, Kind: store.ScheduleWeekly, Weekdays: []int{1, 5}, At: "03:00"}, "mon,fri@03:00", "weekly on Mon, Fri at 03:00 (local time)"},
		{store.ScheduleConfig{Enabled: true, Kind: store.ScheduleMonthly, DayOfMonth: 31, At: "01:00", TimeZone: "UTC"}, "31@01:00",
			"monthly on day 31 at 01:00 (the last day in shorter months) (UTC)"},
		{cronCfg("0 3 * * *", ""), "0 3 * * *", `cron "0 3 * * *" (local time)`},
		{store.ScheduleConfig{Kind: store.ScheduleDaily, At: "04:00"}, "04:00", "daily at 04:00 (local time), disabled"},
	}
	for _, c := range cases {
		if got := Spec(c.cfg); got != c.spec {
			t.Errorf("Spec = %q, want %q", got, c.spec)
		}
		if got := Describe(c.cfg); got != c.desc {
			t.Errorf("Describe = %q, want %q", got, c.desc)
		}
	}
}
