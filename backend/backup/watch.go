package backup

import (
	"context"
	"fmt"
	"time"
)

// DefaultStallAfter is how long a backup may go without a byte from pg_dump,
// or a storage without taking one, before it counts as stalled.
const DefaultStallAfter = 10 * time.Minute

// StallError: a stage of the backup made no progress for too long. A stalled
// pg_dump fails the backup; a stalled storage is dropped from it.
type StallError struct {
	Stage string // "pg_dump" or "storage NAME"
	After time.Duration
}

func (e *StallError) Error() string {
	if e.Stage == "pg_dump" {
		return fmt.Sprintf("pg_dump sent no data for %v, so the backup was stopped: the server may be waiting for a lock another session holds (see pg_locks), or the connection to it is gone", e.After)
	}
	return fmt.Sprintf("%s took no data for %v, so it was dropped from this backup: the network or the storage is stuck", e.Stage, e.After)
}

// TimeoutError: the backup ran past the database's time limit.
type TimeoutError struct{ Limit time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the backup ran longer than this database's time limit (%v) and was stopped: raise the limit if the database has grown", e.Limit)
}

// watch fails a stalled backup (cancel with a StallError) and drops stalled
// storages, until ctx ends. It checks a few times per stallAfter.
func watch(ctx context.Context, stallAfter time.Duration, prog *progressor, fan *fanout, cancel context.CancelCauseFunc) {
	tick := min(max(stallAfter/5, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastRaw, lastChange := prog.rawBytes(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if s := fan.stalled(now, stallAfter); s != nil {
				s.drop(fmt.Errorf("storage %s: %w", s.target.Name, &StallError{Stage: "storage " + s.target.Name, After: stallAfter}))
				lastChange = now // the others get their full time again
				continue
			}
			if raw := prog.rawBytes(); raw != lastRaw {
				lastRaw, lastChange = raw, now
				continue
			}
			if fan.stalled(now, 0) != nil {
				lastChange = now // waiting on a storage, not on pg_dump
				continue
			}
			if now.Sub(lastChange) > stallAfter {
				cancel(&StallError{Stage: "pg_dump", After: stallAfter})
				return
			}
		}
	}
}
