package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MinBackupTimeout is the shortest time limit a backup can be given: less
// would stop every backup before pg_dump is under way.
const MinBackupTimeout = time.Minute

// SetBackupTimeout sets the named database's time limit per backup (0:
// none). A backup still running at the limit is stopped and fails, saying
// so; nothing of it is kept.
func (e *Engine) SetBackupTimeout(ctx context.Context, name string, limit time.Duration) error {
	if limit < 0 || (limit > 0 && limit < MinBackupTimeout) {
		return fmt.Errorf("a time limit of %s would stop every backup: give at least %s, or 0 for none", limit, MinBackupTimeout)
	}
	d, c, err := e.database(ctx, name)
	if err != nil {
		return err
	}
	c.Timeout = limit
	changes, err := e.store.UpdateDatabase(ctx, d.ID, c)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	shown := "none"
	if limit > 0 {
		shown = limit.String()
	}
	return e.record(ctx, Event{Action: "database.changed", Target: name,
		Fields: map[string]string{"fields": strings.Join(changes, ","), "timeout": shown}})
}
