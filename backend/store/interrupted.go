package store

import (
	"context"
	"fmt"
	"time"
)

// InterruptedError is the error recorded for a backup whose process ended
// while it ran.
const InterruptedError = "interrupted: the process running it ended (killed, crashed or the computer restarted)"

// MarkInterrupted records backup id, left running by a process that has
// ended, as failed with InterruptedError, and its copies still being written
// as failed. The caller must know no process is still running it. It returns
// the record as it is now; a backup no longer running is left as it is.
func (s *Store) MarkInterrupted(ctx context.Context, id string, at time.Time) (Backup, error) {
	b, err := s.Backup(ctx, id)
	if err != nil {
		return Backup{}, err
	}
	if b.Status != StatusRunning {
		return b, nil
	}
	b.Status, b.FinishedAt, b.Error = StatusFailed, at.UTC(), InterruptedError
	if err := s.UpdateBackup(ctx, b); err != nil {
		return Backup{}, fmt.Errorf("mark backup %s interrupted: %w", id, err)
	}
	for i, c := range b.Copies {
		if c.Status != CopyWriting {
			continue
		}
		c.Status, c.UpdatedAt, c.Error = CopyFailed, at.UTC(), InterruptedError
		if err := s.SetBackupCopy(ctx, id, c); err != nil {
			return Backup{}, fmt.Errorf("mark backup %s interrupted: %w", id, err)
		}
		b.Copies[i] = c
	}
	return b, nil
}
