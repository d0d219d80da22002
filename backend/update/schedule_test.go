package update

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	s := DefaultSchedule()
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		last   time.Time
		failed bool
		want   time.Time
	}{
		{"first, a minute after start", time.Time{}, false, start.Add(time.Minute)},
		{"a day after a check that worked", start.Add(time.Minute), false, start.Add(time.Minute + 24*time.Hour)},
		{"an hour after one that failed", start.Add(time.Minute), true, start.Add(time.Minute + time.Hour)},
	} {
		if got := s.Next(start, c.last, c.failed); !got.Equal(c.want) {
			t.Errorf("%s: Next = %v, want %v", c.name, got, c.want)
		}
	}
}
