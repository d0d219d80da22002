package retention

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the host's zoneinfo

	"github.com/pgsafe/pgsafe/backend/store"
)

const gb = 1_000_000_000

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// wall parses "2006-01-02 15:04 -0700" and moves it to loc: unambiguous even
// in the hour repeated when clocks go back.
func wall(loc *time.Location, s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		panic(err)
	}
	return t.In(loc)
}

func zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func good(id string, t time.Time, size int64) Backup {
	return Backup{ID: id, Time: t, Size: size, Good: true}
}

func failed(id string, t time.Time) Backup { return Backup{ID: id, Time: t, Size: 1} }

// hourlyHistory is one good backup every hour on the hour, from from to to
// inclusive, each named by its UTC hour ("2026-11-20T14").
func hourlyHistory(from, to time.Time) []Backup {
	var bs []Backup
	for t := from; !t.After(to); t = t.Add(time.Hour) {
		bs = append(bs, good(hourID(t), t, 1))
	}
	return bs
}

func hourID(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

// Two years of hourly backups, up to now.
var (
	gfsNow     = at("2026-11-20T14:30:00Z")
	gfsHistory = hourlyHistory(at("2024-11-20T15:00:00Z"), at("2026-11-20T14:00:00Z"))
)

type applyCase struct {
	name    string
	p       store.RetentionPolicy
	in      []Backup
	now     time.Time
	loc     *time.Location
	keep    []string            // exactly the kept IDs; every other one is deleted
	reasons map[string][]string // exact reasons of some IDs
}

func (c applyCase) run(t *testing.T) {
	t.Helper()
	in := slices.Clone(c.in)
	ds := Apply(c.p, c.in, c.now, c.loc)
	if !reflect.DeepEqual(in, c.in) {
		t.Fatal("Apply changed its input")
	}
	if len(ds) != len(c.in) {
		t.Fatalf("%d decisions for %d backups", len(ds), len(c.in))
	}
	var kept, deleted []string
	byID := map[string]Decision{}
	for i, d := range ds {
		if i > 0 && newerFirst(ds[i-1].Backup, d.Backup) > 0 {
			t.Fatalf("decisions not newest first: %s before %s", ds[i-1].Backup.ID, d.Backup.ID)
		}
		if len(d.Reasons) == 0 {
			t.Errorf("%s: no reason", d.Backup.ID)
		}
		byID[d.Backup.ID] = d
		if d.Keep {
			kept = append(kept, d.Backup.ID)
		} else {
			deleted = append(deleted, d.Backup.ID)
		}
	}
	want := slices.Clone(c.keep)
	slices.Sort(want)
	slices.Sort(kept)
	if !slices.Equal(kept, want) {
		t.Errorf("kept %v\nwant %v", kept, want)
	}
	var wantDeleted []string
	for _, b := range c.in {
		if !slices.Contains(want, b.ID) {
			wantDeleted = append(wantDeleted, b.ID)
		}
	}
	slices.Sort(wantDeleted)
	slices.Sort(deleted)
	if !slices.Equal(deleted, wantDeleted) {
		t.Errorf("deleted %v\nwant %v", deleted, wantDeleted)
	}
	var viaDelete []string
	for _, b := range Delete(ds) {
		viaDelete = append(viaDelete, b.ID)
	}
	slices.Sort(viaDelete)
	if !slices.Equal(viaDelete, deleted) {
		t.Errorf("Delete gave %v, want %v", viaDelete, deleted)
	}
	for id, want := range c.reasons {
		d, ok := byID[id]
		if !ok {
			t.Errorf("no decision for %s", id)
			continue
		}
		if !slices.Equal(d.Reasons, want) {
			t.Errorf("%s reasons %q\nwant %q", id, d.Reasons, want)
		}
	}
}

func runCases(t *testing.T, cases []applyCase) {
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestApplyBasics(t *testing.T) {
	now := at("2026-11-20T12:00:00Z")
	h := func(hoursAgo int) time.Time { return now.Add(-time.Duration(hoursAgo) * time.Hour) }
	five := []Backup{good("b1", h(50), 1), good("b2", h(40), 1), good("b3", h(30), 1), good("b4", h(20), 1), good("b5", h(10), 1)}
	runCases(t, []applyCase{
		{name: "empty history", p: store.RetentionPolicy{KeepLast: 3, Daily: 7, MaxSizeBytes: gb}, now: now},
		{name: "empty history, zero policy", now: now},
		{
			name: "zero policy keeps everything", now: now,
			in:   []Backup{good("old", h(24*400), 10*gb), failed("bad", h(5)), good("new", h(1), 1), failed("running", h(0))},
			keep: []string{"old", "bad", "new", "running"},
			reasons: map[string][]string{
				"new": {ReasonNewest, ReasonNoPolicy},
				"old": {ReasonNoPolicy},
				"bad": {ReasonNoPolicy},
			},
		},
		{
			name: "keep last 3", p: store.RetentionPolicy{KeepLast: 3}, now: now, in: five,
			keep: []string{"b5", "b4", "b3"},
			reasons: map[string][]string{
				"b5": {ReasonNewest, "one of the last 3"},
				"b3": {"one of the last 3"},
				"b2": {ReasonNoRule},
			},
		},
		{
			name: "keep last 1", p: store.RetentionPolicy{KeepLast: 1}, now: now, in: five,
			keep:    []string{"b5"},
			reasons: map[string][]string{"b5": {ReasonNewest, "the last one"}},
		},
		{
			name: "keep last more than there are", p: store.RetentionPolicy{KeepLast: 50}, now: now, in: five,
			keep: []string{"b1", "b2", "b3", "b4", "b5"},
		},
		{
			name: "keep days boundary", p: store.RetentionPolicy{KeepDays: 7}, now: now,
			in: []Backup{
				good("outside", now.Add(-7*24*time.Hour-time.Second), 1),
				good("edge", now.Add(-7*24*time.Hour), 1), // exactly 7 days old: not younger
				good("inside", now.Add(-7*24*time.Hour+time.Second), 1),
				good("recent", h(1), 1),
			},
			keep: []string{"inside", "recent"},
			reasons: map[string][]string{
				"recent":  {ReasonNewest, "younger than 7 days"},
				"inside":  {"younger than 7 days"},
				"edge":    {ReasonNoRule},
				"outside": {ReasonNoRule},
			},
		},
		{
			name: "keep days 1", p: store.RetentionPolicy{KeepDays: 1}, now: now, in: five,
			keep: []string{"b5", "b4"},
		},
		{
			name: "keep days in the future", p: store.RetentionPolicy{KeepDays: 1}, now: now,
			in:   []Backup{good("future", now.Add(time.Hour), 1), good("now", now, 1), good("old", h(48), 1)},
			keep: []string{"future", "now"},
		},
		{
			name: "huge keep days keeps everything", p: store.RetentionPolicy{KeepDays: math.MaxInt32}, now: now,
			in:   []Backup{good("ancient", at("0001-01-01T00:00:00Z"), 1), good("new", now, 1)},
			keep: []string{"ancient", "new"},
		},
		{
			name: "newest good kept though every rule drops it", p: store.RetentionPolicy{KeepDays: 1}, now: now,
			in:   []Backup{good("ten", h(24*10), 1), good("eleven", h(24*11), 1), good("twelve", h(24*12), 1)},
			keep: []string{"ten"},
			reasons: map[string][]string{
				"ten":    {ReasonNewest},
				"eleven": {ReasonNoRule},
			},
		},
		{
			name: "hourly keeps the newest of the hour", p: store.RetentionPolicy{Hourly: 1}, now: now,
			in:   []Backup{good("a", h(100), 1), good("b", h(100).Add(time.Minute), 1)},
			keep: []string{"b"},
			reasons: map[string][]string{
				"b": {ReasonNewest, "hourly 2026-11-16 08:00 UTC"},
				"a": {ReasonNoRule},
			},
		},
	})
}

func TestApplyFailed(t *testing.T) {
	now := at("2026-11-20T12:00:00Z")
	h := func(hoursAgo int) time.Time { return now.Add(-time.Duration(hoursAgo) * time.Hour) }
	history := []Backup{failed("f0", h(50)), good("g1", h(40), 1), failed("f2", h(30)), good("g3", h(20), 1), failed("f4", h(10))}
	runCases(t, []applyCase{
		{
			name: "failed older than newest good deleted, newer kept", p: store.RetentionPolicy{KeepLast: 1}, now: now, in: history,
			keep: []string{"g3", "f4"},
			reasons: map[string][]string{
				"f0": {ReasonFailedOld},
				"f2": {ReasonFailedOld},
				"f4": {ReasonFailedNew},
				"g1": {ReasonNoRule},
				"g3": {ReasonNewest, "the last one"},
			},
		},
		{
			name: "failed backups do not count toward keep last", p: store.RetentionPolicy{KeepLast: 2}, now: now, in: history,
			keep: []string{"g1", "g3", "f4"},
		},
		{
			name: "failed backups do not count toward GFS", p: store.RetentionPolicy{Daily: 1}, now: now,
			in:   []Backup{good("g", h(5), 1), failed("f", h(1))},
			keep: []string{"g", "f"},
			reasons: map[string][]string{
				"g": {ReasonNewest, "daily 2026-11-20"},
			},
		},
		{
			name: "no good backup: failed ones kept", p: store.RetentionPolicy{KeepLast: 1, MaxSizeBytes: 1}, now: now,
			in:   []Backup{failed("f0", h(50)), failed("f1", h(40))},
			keep: []string{"f0", "f1"},
			reasons: map[string][]string{
				"f0": {ReasonFailedNoGood},
			},
		},
		{
			name: "failed at the same time as the newest good, by ID", p: store.RetentionPolicy{KeepLast: 1}, now: now,
			in:   []Backup{good("m", h(1), 1), failed("a", h(1)), failed("z", h(1))},
			keep: []string{"m", "z"},
			reasons: map[string][]string{
				"a": {ReasonFailedOld},
				"z": {ReasonFailedNew},
			},
		},
	})
}

func TestApplySizeCap(t *testing.T) {
	now := at("2026-11-20T12:00:00Z")
	h := func(hoursAgo int) time.Time { return now.Add(-time.Duration(hoursAgo) * time.Hour) }
	// Newest first: a 10 GB, b 20 GB, c 30 GB, d 5 GB.
	history := []Backup{good("d", h(4), 5*gb), good("c", h(3), 30*gb), good("b", h(2), 20*gb), good("a", h(1), 10*gb)}
	runCases(t, []applyCase{
		{
			name: "cap exactly reached keeps", p: store.RetentionPolicy{KeepLast: 10, MaxSizeBytes: 60 * gb}, now: now, in: history,
			keep: []string{"a", "b", "c"},
			reasons: map[string][]string{
				"c": {"one of the last 10"},
				"d": {"over the 60 GB size cap"},
			},
		},
		{
			name: "once over, the rest goes even when it would fit", p: store.RetentionPolicy{KeepLast: 10, MaxSizeBytes: 50 * gb}, now: now, in: history,
			keep: []string{"a", "b"},
			reasons: map[string][]string{
				"a": {ReasonNewest, "one of the last 10"},
				"c": {"over the 50 GB size cap"},
				"d": {"over the 50 GB size cap"},
			},
		},
		{
			name: "cap smaller than the newest backup", p: store.RetentionPolicy{KeepLast: 10, MaxSizeBytes: 5 * gb}, now: now, in: history,
			keep: []string{"a"},
			reasons: map[string][]string{
				"a": {ReasonNewest, "one of the last 10", "larger than the 5 GB size cap, kept anyway"},
				"b": {"over the 5 GB size cap"},
			},
		},
		{
			name: "cap counts only what rules kept", p: store.RetentionPolicy{KeepLast: 2, MaxSizeBytes: 30 * gb}, now: now, in: history,
			keep: []string{"a", "b"},
			reasons: map[string][]string{
				"c": {ReasonNoRule},
				"d": {ReasonNoRule},
			},
		},
		{
			name: "cap alone keeps what fits", p: store.RetentionPolicy{MaxSizeBytes: 31 * gb}, now: now, in: history,
			keep: []string{"a", "b"},
			reasons: map[string][]string{
				"a": {ReasonNewest, "no count rule, only a size cap"},
				"b": {"no count rule, only a size cap"},
				"c": {"over the 31 GB size cap"},
			},
		},
		{
			name: "cap ignores failed backups", p: store.RetentionPolicy{MaxSizeBytes: 30 * gb}, now: now,
			in:   append(slices.Clone(history), Backup{ID: "running", Time: h(0), Size: 100 * gb}, Backup{ID: "broken", Time: h(3).Add(time.Minute), Size: 1}),
			keep: []string{"a", "b", "running"},
			reasons: map[string][]string{
				"broken": {ReasonFailedOld},
				"c":      {"over the 30 GB size cap"},
			},
		},
		{
			name: "negative and huge sizes", p: store.RetentionPolicy{MaxSizeBytes: math.MaxInt64}, now: now,
			in:   []Backup{good("x", h(1), math.MaxInt64), good("y", h(2), math.MaxInt64), good("z", h(3), -5)},
			keep: []string{"x"},
		},
	})
}

func TestApplyGFS(t *testing.T) {
	// Independent expectations for the long-count cases: the last hour of
	// every month of the history, and the last 24 hours.
	var monthEnds []string
	for m := at("2024-12-01T00:00:00Z"); m.Before(at("2026-11-01T00:00:00Z").Add(time.Hour)); m = m.AddDate(0, 1, 0) {
		monthEnds = append(monthEnds, hourID(m.Add(-time.Hour)))
	}
	var lastDay []string
	for i := range 24 {
		lastDay = append(lastDay, hourID(at("2026-11-20T14:00:00Z").Add(-time.Duration(i)*time.Hour)))
	}
	newest := "2026-11-20T14"
	runCases(t, []applyCase{
		{
			name: "hourly", p: store.RetentionPolicy{Hourly: 5}, in: gfsHistory, now: gfsNow,
			keep: []string{"2026-11-20T14", "2026-11-20T13", "2026-11-20T12", "2026-11-20T11", "2026-11-20T10"},
			reasons: map[string][]string{
				newest:          {ReasonNewest, "hourly 2026-11-20 14:00 UTC"},
				"2026-11-20T10": {"hourly 2026-11-20 10:00 UTC"},
				"2026-11-20T09": {ReasonNoRule},
			},
		},
		{
			name: "daily", p: store.RetentionPolicy{Daily: 7}, in: gfsHistory, now: gfsNow,
			keep: []string{newest, "2026-11-19T23", "2026-11-18T23", "2026-11-17T23", "2026-11-16T23", "2026-11-15T23", "2026-11-14T23"},
			reasons: map[string][]string{
				newest:          {ReasonNewest, "daily 2026-11-20"},
				"2026-11-14T23": {"daily 2026-11-14"},
			},
		},
		{
			name: "weekly", p: store.RetentionPolicy{Weekly: 4}, in: gfsHistory, now: gfsNow,
			keep: []string{newest, "2026-11-15T23", "2026-11-08T23", "2026-11-01T23"},
			reasons: map[string][]string{
				newest:          {ReasonNewest, "weekly 2026-W47"},
				"2026-11-15T23": {"weekly 2026-W46"},
				"2026-11-01T23": {"weekly 2026-W44"},
			},
		},
		{
			name: "monthly", p: store.RetentionPolicy{Monthly: 6}, in: gfsHistory, now: gfsNow,
			keep: []string{newest, "2026-10-31T23", "2026-09-30T23", "2026-08-31T23", "2026-07-31T23", "2026-06-30T23"},
			reasons: map[string][]string{
				"2026-10-31T23": {"monthly 2026-10"},
			},
		},
		{
			name: "monthly beyond the history keeps every month that has a backup", p: store.RetentionPolicy{Monthly: 100}, in: gfsHistory, now: gfsNow,
			keep: append([]string{newest}, monthEnds...),
		},
		{
			name: "yearly beyond the history", p: store.RetentionPolicy{Yearly: 5}, in: gfsHistory, now: gfsNow,
			keep: []string{newest, "2025-12-31T23", "2024-12-31T23"},
			reasons: map[string][]string{
				"2024-12-31T23": {"yearly 2024"},
				"2024-11-20T15": {ReasonNoRule},
			},
		},
		{
			name: "periods without a backup are skipped, not counted", p: store.RetentionPolicy{Daily: 3, Weekly: 2}, now: gfsNow,
			in: []Backup{
				good("nov20", at("2026-11-20T08:00:00Z"), 1),
				good("nov17", at("2026-11-17T08:00:00Z"), 1),
				good("nov17early", at("2026-11-17T01:00:00Z"), 1),
				good("nov10", at("2026-11-10T08:00:00Z"), 1),
				good("nov01", at("2026-11-01T08:00:00Z"), 1),
				good("jan", at("2026-01-05T08:00:00Z"), 1),
			},
			keep: []string{"nov20", "nov17", "nov10"},
			reasons: map[string][]string{
				"nov10": {"daily 2026-11-10", "weekly 2026-W46"},
			},
		},
		{
			name: "rules are a union, each counted on its own", in: gfsHistory, now: gfsNow,
			p:    store.RetentionPolicy{KeepLast: 2, Hourly: 3, Daily: 3, Weekly: 2, Monthly: 2, Yearly: 2},
			keep: []string{newest, "2026-11-20T13", "2026-11-20T12", "2026-11-19T23", "2026-11-18T23", "2026-11-15T23", "2026-10-31T23", "2025-12-31T23"},
			reasons: map[string][]string{
				newest: {ReasonNewest, "one of the last 2", "hourly 2026-11-20 14:00 UTC", "daily 2026-11-20",
					"weekly 2026-W47", "monthly 2026-11", "yearly 2026"},
				"2026-11-20T13": {"one of the last 2", "hourly 2026-11-20 13:00 UTC"},
				"2026-11-20T12": {"hourly 2026-11-20 12:00 UTC"},
				"2025-12-31T23": {"yearly 2025"},
			},
		},
		{
			name: "keep days with monthly", p: store.RetentionPolicy{KeepDays: 1, Monthly: 3}, in: gfsHistory, now: gfsNow,
			keep: append(slices.Clone(lastDay), "2026-10-31T23", "2026-09-30T23"),
			reasons: map[string][]string{
				newest:          {ReasonNewest, "younger than 1 day", "monthly 2026-11"},
				"2026-11-19T15": {"younger than 1 day"},
				"2026-11-19T14": {ReasonNoRule},
			},
		},
	})
}

func TestApplyCalendar(t *testing.T) {
	berlin := zone("Europe/Berlin")
	// Around both of Berlin's 2026 DST changes, backups half an hour either
	// side of local midnight: a UTC or 24-hour bucketing puts them in the
	// wrong days.
	spring := []Backup{
		good("0328-2330", wall(berlin, "2026-03-28 23:30 +0100"), 1),
		good("0329-0030", wall(berlin, "2026-03-29 00:30 +0100"), 1),
		good("0329-0330", wall(berlin, "2026-03-29 03:30 +0200"), 1), // just after 02:00 became 03:00
		good("0329-2330", wall(berlin, "2026-03-29 23:30 +0200"), 1),
		good("0330-0030", wall(berlin, "2026-03-30 00:30 +0200"), 1),
		good("0330-1200", wall(berlin, "2026-03-30 12:00 +0200"), 1),
	}
	autumn := []Backup{
		good("1024-2330", wall(berlin, "2026-10-24 23:30 +0200"), 1),
		good("1025-0030", wall(berlin, "2026-10-25 00:30 +0200"), 1),
		good("1025-0230a", wall(berlin, "2026-10-25 02:30 +0200"), 1), // 02:30 twice
		good("1025-0230b", wall(berlin, "2026-10-25 02:30 +0100"), 1),
		good("1025-2330", wall(berlin, "2026-10-25 23:30 +0100"), 1),
		good("1026-0030", wall(berlin, "2026-10-26 00:30 +0100"), 1),
	}
	repeatedHour := []Backup{
		good("01:30+2", wall(berlin, "2026-10-25 01:30 +0200"), 1),
		good("02:15+2", wall(berlin, "2026-10-25 02:15 +0200"), 1),
		good("02:45+2", wall(berlin, "2026-10-25 02:45 +0200"), 1),
		good("02:15+1", wall(berlin, "2026-10-25 02:15 +0100"), 1),
		good("02:45+1", wall(berlin, "2026-10-25 02:45 +0100"), 1),
		good("03:15+1", wall(berlin, "2026-10-25 03:15 +0100"), 1),
	}
	// 2026-12-31 (Thursday) to 2027-01-03 (Sunday) are ISO week 2026-W53.
	yearEnd := []Backup{
		good("1227", at("2026-12-27T12:00:00Z"), 1), // Sunday, 2026-W52
		good("1228", at("2026-12-28T12:00:00Z"), 1), // Monday, 2026-W53
		good("1231", at("2026-12-31T12:00:00Z"), 1),
		good("0101", at("2027-01-01T12:00:00Z"), 1),
		good("0103", at("2027-01-03T12:00:00Z"), 1), // Sunday, 2026-W53
		good("0104", at("2027-01-04T12:00:00Z"), 1), // Monday, 2027-W01
	}
	runCases(t, []applyCase{
		{
			name: "daily across spring forward in Berlin", p: store.RetentionPolicy{Daily: 10}, in: spring, loc: berlin,
			now:  at("2026-04-01T00:00:00Z"),
			keep: []string{"0330-1200", "0329-2330", "0328-2330"},
			reasons: map[string][]string{
				"0329-2330": {"daily 2026-03-29"},
				"0328-2330": {"daily 2026-03-28"},
			},
		},
		{
			name: "same history by UTC days", p: store.RetentionPolicy{Daily: 10}, in: spring, loc: time.UTC,
			now:  at("2026-04-01T00:00:00Z"),
			keep: []string{"0330-1200", "0330-0030", "0329-0030"},
		},
		{
			name: "nil location is UTC", p: store.RetentionPolicy{Daily: 10}, in: spring,
			now:  at("2026-04-01T00:00:00Z"),
			keep: []string{"0330-1200", "0330-0030", "0329-0030"},
		},
		{
			name: "daily across fall back in Berlin", p: store.RetentionPolicy{Daily: 10}, in: autumn, loc: berlin,
			now:  at("2026-11-01T00:00:00Z"),
			keep: []string{"1026-0030", "1025-2330", "1024-2330"},
			reasons: map[string][]string{
				"1025-0230b": {ReasonNoRule},
			},
		},
		{
			name: "the repeated hour is two hours", p: store.RetentionPolicy{Hourly: 10}, in: repeatedHour, loc: berlin,
			now:  at("2026-11-01T00:00:00Z"),
			keep: []string{"03:15+1", "02:45+1", "02:45+2", "01:30+2"},
			reasons: map[string][]string{
				"02:45+1": {"hourly 2026-10-25 02:00 CET"},
				"02:45+2": {"hourly 2026-10-25 02:00 CEST"},
				"02:15+1": {ReasonNoRule},
			},
		},
		{
			name: "ISO week across the year boundary", p: store.RetentionPolicy{Weekly: 3}, in: yearEnd, loc: time.UTC,
			now:  at("2027-01-05T00:00:00Z"),
			keep: []string{"0104", "0103", "1227"},
			reasons: map[string][]string{
				"0104": {ReasonNewest, "weekly 2027-W01"},
				"0103": {"weekly 2026-W53"},
				"1227": {"weekly 2026-W52"},
				"1231": {ReasonNoRule},
			},
		},
		{
			name: "calendar year across the same boundary", p: store.RetentionPolicy{Yearly: 3}, in: yearEnd, loc: time.UTC,
			now:  at("2027-01-05T00:00:00Z"),
			keep: []string{"0104", "1231"},
			reasons: map[string][]string{
				"1231": {"yearly 2026"},
			},
		},
		{
			name: "year boundary in the caller's zone", p: store.RetentionPolicy{Yearly: 3}, loc: zone("America/New_York"),
			now: at("2027-01-05T00:00:00Z"),
			in: []Backup{
				good("ny-2026", at("2027-01-01T03:00:00Z"), 1), // 22:00 on 31 December in New York
				good("ny-2026-early", at("2026-12-31T20:00:00Z"), 1),
				good("ny-2027", at("2027-01-01T06:00:00Z"), 1),
			},
			keep: []string{"ny-2027", "ny-2026"},
		},
	})
}

func TestApplyOrder(t *testing.T) {
	now := at("2026-11-20T12:00:00Z")
	same := now.Add(-time.Hour)
	runCases(t, []applyCase{
		{
			name: "equal times: the greater ID is the newer", p: store.RetentionPolicy{KeepLast: 1}, now: now,
			in:   []Backup{good("b", same, 1), good("c", same, 1), good("a", same, 1)},
			keep: []string{"c"},
		},
		{
			name: "equal times, daily", p: store.RetentionPolicy{Daily: 1}, now: now,
			in:   []Backup{good("c", same, 1), good("a", same, 1), good("b", same, 1)},
			keep: []string{"c"},
		},
	})

	// Unsorted input: the same decisions as sorted input, newest first.
	p := store.RetentionPolicy{KeepLast: 3, Daily: 5, Weekly: 3, Monthly: 4, MaxSizeBytes: 100}
	sorted := gfsHistory[len(gfsHistory)-24*90:]
	want := Apply(p, sorted, gfsNow, time.UTC)
	rng := rand.New(rand.NewPCG(7, 7))
	for range 5 {
		shuffled := slices.Clone(sorted)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := Apply(p, shuffled, gfsNow, time.UTC)
		if !reflect.DeepEqual(got, want) {
			t.Fatal("decisions depend on the input's order")
		}
	}
	if want[0].Backup.ID != "2026-11-20T14" || want[len(want)-1].Backup.ID != hourID(sorted[0].Time) {
		t.Errorf("not newest first: %s … %s", want[0].Backup.ID, want[len(want)-1].Backup.ID)
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		p    store.RetentionPolicy
		want string
	}{
		{store.RetentionPolicy{}, "keep everything"},
		{store.RetentionPolicy{KeepLast: 7, Daily: 14, Weekly: 8}, "keep the last 7, daily for 14 days, weekly for 8 weeks"},
		{store.RetentionPolicy{KeepLast: 1}, "keep the last backup"},
		{store.RetentionPolicy{KeepDays: 1}, "keep everything younger than 1 day"},
		{store.RetentionPolicy{MaxSizeBytes: 50 * gb}, "keep everything; at most 50 GB in total"},
		{
			store.RetentionPolicy{KeepLast: 2, KeepDays: 30, Hourly: 24, Daily: 1, Weekly: 1, Monthly: 12, Yearly: 3, MaxSizeBytes: 1 << 40},
			"keep the last 2, everything younger than 30 days, hourly for 24 hours, daily for 1 day, weekly for 1 week, " +
				"monthly for 12 months, yearly for 3 years; at most 1.1 TB in total",
		},
		{store.RetentionPolicy{Hourly: 1, Monthly: 1, Yearly: 1}, "keep hourly for 1 hour, monthly for 1 month, yearly for 1 year"},
	} {
		if got := Describe(c.p); got != c.want {
			t.Errorf("Describe(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1 kB", 1536: "1.54 kB", 999_999: "1 MB",
		1_500_000_000: "1.5 GB", 50 * gb: "50 GB", 1 << 30: "1.07 GB", math.MaxInt64: "9.22 EB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestApplyProperties checks, over random histories and policies: every
// backup decided once, newest first, with a reason; the newest good backup
// kept; failed ones decided by their place; the size cap honoured; the rules
// a union; and Apply idempotent and independent of the input's order.
func TestApplyProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	locs := []*time.Location{time.UTC, zone("Europe/Berlin"), zone("America/New_York"), zone("Asia/Kolkata"), zone("Australia/Lord_Howe")}
	now := at("2026-11-20T12:00:00Z")
	small := func() int {
		if rng.IntN(2) == 0 {
			return 0
		}
		return 1 + rng.IntN(8)
	}
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for it := range iterations {
		n := rng.IntN(60)
		span := time.Duration(1+rng.IntN(3*365*24)) * time.Hour
		var in []Backup
		for i := range n {
			var tm time.Time
			if i > 0 && rng.IntN(10) == 0 {
				tm = in[rng.IntN(i)].Time // an equal time, to exercise the tie-break
			} else {
				tm = now.Add(-time.Duration(rng.Int64N(int64(span)))).Add(time.Duration(rng.IntN(2)) * time.Hour)
			}
			in = append(in, Backup{ID: fmt.Sprintf("b%03d", i), Time: tm, Size: rng.Int64N(10 * gb), Good: rng.IntN(7) != 0})
		}
		p := store.RetentionPolicy{KeepLast: small(), KeepDays: small(), Hourly: small(), Daily: small(),
			Weekly: small(), Monthly: small(), Yearly: small()}
		if rng.IntN(2) == 0 {
			p.MaxSizeBytes = 1 + rng.Int64N(60*gb)
		}
		loc := locs[rng.IntN(len(locs))]
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d, policy %+v, %s, %d backups: %s", it, p, loc, n, fmt.Sprintf(format, args...))
		}

		ds := Apply(p, in, now, loc)
		if len(ds) != n {
			fail("%d decisions", len(ds))
		}
		ids := map[string]bool{}
		newest := -1
		var keptGood int64
		keptGoodCount := 0
		var kept []Backup
		for i, d := range ds {
			if ids[d.Backup.ID] {
				fail("%s decided twice", d.Backup.ID)
			}
			ids[d.Backup.ID] = true
			if i > 0 && newerFirst(ds[i-1].Backup, d.Backup) >= 0 {
				fail("not newest first at %d", i)
			}
			if len(d.Reasons) == 0 {
				fail("%s has no reason", d.Backup.ID)
			}
			if d.Backup.Good && newest < 0 {
				newest = i
				if !d.Keep || d.Reasons[0] != ReasonNewest {
					fail("newest good backup %s not kept: %q", d.Backup.ID, d.Reasons)
				}
			}
			if !d.Backup.Good && d.Keep != (newest < 0 || isZero(p)) {
				fail("failed %s: keep %v, newest good at %d", d.Backup.ID, d.Keep, newest)
			}
			if d.Keep {
				kept = append(kept, d.Backup)
				if d.Backup.Good {
					keptGood += d.Backup.Size
					keptGoodCount++
				}
			}
		}
		if p.MaxSizeBytes > 0 && keptGood > p.MaxSizeBytes && keptGoodCount != 1 {
			fail("kept %d bytes in %d good backups over a cap of %d", keptGood, keptGoodCount, p.MaxSizeBytes)
		}

		// Idempotent: what was kept, applied again, all stays.
		rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		again := Apply(p, kept, now, loc)
		if del := Delete(again); len(del) > 0 {
			fail("second pass deletes %s", del[0].ID)
		}

		// Independent of the input's order.
		shuffled := slices.Clone(in)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if !reflect.DeepEqual(Apply(p, shuffled, now, loc), ds) {
			fail("decisions depend on the input's order")
		}

		// Without a cap, the kept set is the union of each rule's alone.
		if p.MaxSizeBytes == 0 && hasCountRule(p) {
			union := map[string]bool{}
			for _, single := range []store.RetentionPolicy{{KeepLast: p.KeepLast}, {KeepDays: p.KeepDays},
				{Hourly: p.Hourly}, {Daily: p.Daily}, {Weekly: p.Weekly}, {Monthly: p.Monthly}, {Yearly: p.Yearly}} {
				if !hasCountRule(single) {
					continue
				}
				for _, d := range Apply(single, in, now, loc) {
					if d.Keep {
						union[d.Backup.ID] = true
					}
				}
			}
			for _, d := range ds {
				if d.Keep != union[d.Backup.ID] {
					fail("%s: keep %v, but the union of single rules says %v", d.Backup.ID, d.Keep, union[d.Backup.ID])
				}
			}
		}
	}
}

func TestReasonsReadable(t *testing.T) {
	// Reasons end up in the audit log joined by "; ": none may contain it.
	p := store.RetentionPolicy{KeepLast: 3, KeepDays: 2, Hourly: 5, Daily: 5, Weekly: 5, Monthly: 5, Yearly: 5, MaxSizeBytes: 30}
	for _, d := range Apply(p, gfsHistory[len(gfsHistory)-24*60:], gfsNow, zone("Europe/Berlin")) {
		for _, r := range d.Reasons {
			if r == "" || strings.Contains(r, ";") {
				t.Fatalf("%s: reason %q", d.Backup.ID, r)
			}
		}
	}
}
