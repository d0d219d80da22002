// Package retention decides which backups of a database a retention policy
// (store.RetentionPolicy) keeps and which it deletes. It is a pure function
// of the policy, the backup history, the current time and a time zone: no
// I/O, no clock, no database. The caller deletes what Apply says.
//
// The rules, which are the contract:
//
//   - Order. Backups are ordered newest first by Time; equal times are
//     ordered by ID, the greater ID counting as the newer. Every rule and
//     Apply's result use this order, so the outcome is deterministic and
//     does not depend on the input's order.
//   - Only good backups (Good: finished and not failed) count toward rules.
//   - The newest good backup is never deleted, whatever the policy, even when
//     it alone is larger than the size cap.
//   - An all-zero policy keeps everything, failed backups included (no
//     policy means no pruning at all).
//   - Otherwise a failed or incomplete backup (Good false) is deleted when it
//     is older than the newest good backup (it is garbage) and kept when it
//     is newer (it may still be in progress) or when there is no good backup
//     at all. Failed backups never count toward the size cap.
//   - Union: a good backup is kept when any of the rules below keeps it.
//   - KeepLast N: the N newest good backups.
//   - KeepDays D: good backups with Time > now − D×24h (a backup exactly
//     D×24h old is not kept).
//   - Hourly, Daily, Weekly, Monthly, Yearly N (grandfather-father-son, like
//     restic's --keep-hourly … --keep-yearly): the periods are the clock
//     hour, calendar day, ISO 8601 week (Time.ISOWeek), calendar month and
//     calendar year of the backup's time in loc. For each rule, the newest
//     good backup of each of the N newest periods that have a good backup
//     is kept; periods without a backup are skipped, not counted. Each rule
//     counts on its own over the whole good history. Calendar periods follow
//     loc's wall clock, so days are DST-correct (23 or 25 hours long); the
//     hour repeated when clocks go back is two periods.
//   - A policy whose counts (KeepLast … Yearly) are all zero but has a size
//     cap keeps every good backup, then applies the cap.
//   - MaxSizeBytes is applied last: walking the good backups kept so far from
//     newest to oldest and adding up their sizes, once the running total
//     exceeds the cap, that backup and every older one are deleted (even ones
//     small enough to fit), except the newest good backup. What stays adds up
//     to at most the cap, unless the newest good backup alone exceeds it.
//     Negative sizes count as zero.
//
// Apply is idempotent: applying the same policy at the same now to the
// backups it kept deletes nothing more.
package retention

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

// Backup is one backup as retention sees it.
type Backup struct {
	ID   string
	Time time.Time
	Size int64
	// Good: finished and verified not failed. Only good backups count
	// toward the rules.
	Good bool
}

// Decision is Apply's verdict on one backup, with its reasons in plain words:
// for a kept backup every rule that keeps it ("newest good backup", "one of
// the last 7", "daily 2026-11-20", "younger than 30 days"); for a deleted one
// why ("not kept by any rule", "over the 50 GB size cap").
type Decision struct {
	Backup  Backup
	Keep    bool
	Reasons []string
}

// Reasons Apply gives that are not tied to a rule's parameters.
const (
	ReasonNewest       = "newest good backup"
	ReasonNoPolicy     = "no retention policy: keep everything"
	ReasonNoRule       = "not kept by any rule"
	ReasonFailedOld    = "failed or incomplete, older than the newest good backup"
	ReasonFailedNew    = "failed or incomplete, newer than the newest good backup (may be in progress)"
	ReasonFailedNoGood = "failed or incomplete, but there is no good backup"
)

// Apply decides, for each backup, whether policy p keeps it at time now,
// with calendar periods in loc (nil: UTC). The result holds every backup
// once, newest first (see the package comment for the order and the rules).
func Apply(p store.RetentionPolicy, backups []Backup, now time.Time, loc *time.Location) []Decision {
	if loc == nil {
		loc = time.UTC
	}
	ds := make([]Decision, len(backups))
	for i, b := range backups {
		ds[i].Backup = b
	}
	slices.SortStableFunc(ds, func(a, b Decision) int { return newerFirst(a.Backup, b.Backup) })

	var good []int // indexes into ds of the good backups, newest first
	for i := range ds {
		if ds[i].Backup.Good {
			good = append(good, i)
		}
	}
	newest := -1
	if len(good) > 0 {
		newest = good[0]
	}
	keep := func(i int, reason string) {
		ds[i].Keep = true
		ds[i].Reasons = append(ds[i].Reasons, reason)
	}
	if newest >= 0 {
		keep(newest, ReasonNewest)
	}

	if isZero(p) {
		for i := range ds {
			keep(i, ReasonNoPolicy)
		}
		return ds
	}

	for i := range ds {
		switch {
		case ds[i].Backup.Good:
		case newest < 0:
			keep(i, ReasonFailedNoGood)
		case i < newest:
			keep(i, ReasonFailedNew)
		default:
			ds[i].Reasons = append(ds[i].Reasons, ReasonFailedOld)
		}
	}

	if n := p.KeepLast; n > 0 {
		reason := "the last one"
		if n > 1 {
			reason = fmt.Sprintf("one of the last %d", n)
		}
		for _, i := range good[:min(n, len(good))] {
			keep(i, reason)
		}
	}

	if d := p.KeepDays; d > 0 {
		reason := "younger than " + plural(d, "day")
		// Beyond math.MaxInt64 nanoseconds (about 292 years) every backup
		// is younger.
		all := int64(d) > int64(math.MaxInt64)/int64(24*time.Hour)
		cutoff := now.Add(-time.Duration(d) * 24 * time.Hour)
		for _, i := range good {
			if all || ds[i].Backup.Time.After(cutoff) {
				keep(i, reason)
			}
		}
	}

	for _, r := range periodRules(p) {
		seen := make(map[period]bool, min(r.n, len(good)))
		for _, i := range good {
			t := ds[i].Backup.Time.In(loc)
			k := r.key(t)
			if seen[k] {
				continue // an older backup of a period already decided
			}
			if len(seen) == r.n {
				break
			}
			seen[k] = true
			keep(i, r.name+" "+r.label(t))
		}
	}

	hasRule := hasCountRule(p)
	for _, i := range good {
		if !hasRule {
			keep(i, "no count rule, only a size cap")
		} else if !ds[i].Keep {
			ds[i].Reasons = append(ds[i].Reasons, ReasonNoRule)
		}
	}

	if limit := p.MaxSizeBytes; limit > 0 {
		reason := "over the " + formatBytes(limit) + " size cap"
		var total int64
		over := false
		for _, i := range good {
			if !ds[i].Keep {
				continue
			}
			if !over {
				size := max(ds[i].Backup.Size, 0)
				// total <= limit here, so limit-total cannot overflow.
				if over = size > limit-total; !over {
					total += size
				}
			}
			switch {
			case !over:
			case i == newest:
				ds[i].Reasons = append(ds[i].Reasons, "larger than the "+formatBytes(limit)+" size cap, kept anyway")
			default:
				ds[i].Keep = false
				ds[i].Reasons = []string{reason}
			}
		}
	}
	return ds
}

// Delete returns the backups decisions delete, in decisions' order.
func Delete(decisions []Decision) []Backup {
	var out []Backup
	for _, d := range decisions {
		if !d.Keep {
			out = append(out, d.Backup)
		}
	}
	return out
}

// Describe says policy p in plain words, like "keep the last 7, daily for 14
// days, weekly for 8 weeks; at most 50 GB in total", or "keep everything"
// when it has no rule.
func Describe(p store.RetentionPolicy) string {
	var parts []string
	switch {
	case p.KeepLast == 1:
		parts = append(parts, "the last backup")
	case p.KeepLast > 1:
		parts = append(parts, fmt.Sprintf("the last %d", p.KeepLast))
	}
	if p.KeepDays > 0 {
		parts = append(parts, "everything younger than "+plural(p.KeepDays, "day"))
	}
	for _, r := range periodRules(p) {
		parts = append(parts, r.name+" for "+plural(r.n, r.unit))
	}
	s := "keep " + strings.Join(parts, ", ")
	if len(parts) == 0 {
		s = "keep everything"
	}
	if p.MaxSizeBytes > 0 {
		s += "; at most " + formatBytes(p.MaxSizeBytes) + " in total"
	}
	return s
}

// formatBytes writes n in decimal units: "512 B", "1.5 GB", "50 GB".
func formatBytes(n int64) string {
	const units = "kMGTPE"
	if n < 1000 && n > -1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, u := float64(n), -1
	for (v >= 999.995 || v <= -999.995) && u < len(units)-1 {
		v /= 1000
		u++
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " " + units[u:u+1] + "B"
}

// newerFirst orders backups newest first, equal times by descending ID.
func newerFirst(a, b Backup) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func isZero(p store.RetentionPolicy) bool {
	return !hasCountRule(p) && p.MaxSizeBytes <= 0
}

func hasCountRule(p store.RetentionPolicy) bool {
	return p.KeepLast > 0 || p.KeepDays > 0 || p.Hourly > 0 || p.Daily > 0 ||
		p.Weekly > 0 || p.Monthly > 0 || p.Yearly > 0
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// period identifies one hour, day, week, month or year of wall-clock time.
type period struct{ a, b, c, d, e int }

type periodRule struct {
	name, unit string
	n          int
	key        func(time.Time) period
	label      func(time.Time) string
}

// periodRules lists p's active GFS rules, shortest period first. Times given
// to key and label are already in the policy's location.
func periodRules(p store.RetentionPolicy) []periodRule {
	all := []periodRule{
		{"hourly", "hour", p.Hourly,
			func(t time.Time) period {
				// The offset tells apart the two hours with the same wall
				// clock when clocks go back.
				_, off := t.Zone()
				return period{t.Year(), int(t.Month()), t.Day(), t.Hour(), off}
			},
			func(t time.Time) string { return t.Format("2006-01-02 15:00 MST") }},
		{"daily", "day", p.Daily,
			func(t time.Time) period { return period{a: t.Year(), b: int(t.Month()), c: t.Day()} },
			func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", "week", p.Weekly,
			func(t time.Time) period { y, w := t.ISOWeek(); return period{a: y, b: w} },
			func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", "month", p.Monthly,
			func(t time.Time) period { return period{a: t.Year(), b: int(t.Month())} },
			func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", "year", p.Yearly,
			func(t time.Time) period { return period{a: t.Year()} },
			func(t time.Time) string { return t.Format("2006") }},
	}
	var on []periodRule
	for _, r := range all {
		if r.n > 0 {
			on = append(on, r)
		}
	}
	return on
}
