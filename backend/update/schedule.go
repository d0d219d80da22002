package update

import "time"

// Schedule is when the agent checks on its own: First after it starts (so
// that a check never holds up the start), then Every after a check that
// worked, or Retry after one that failed or could not run (offline at
// login, settings not open yet).
type Schedule struct {
	First, Every, Retry time.Duration
}

// DefaultSchedule: a minute after start, then daily; an hour after a
// failure.
func DefaultSchedule() Schedule {
	return Schedule{First: time.Minute, Every: 24 * time.Hour, Retry: time.Hour}
}

// Next is when to check next, for an agent that started at started and last
// tried at last (zero: not yet), which failed or not.
func (s Schedule) Next(started, last time.Time, failed bool) time.Time {
	switch {
	case last.IsZero():
		return started.Add(s.First)
	case failed:
		return last.Add(s.Retry)
	}
	return last.Add(s.Every)
}
