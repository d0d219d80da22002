package engine

import (
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
