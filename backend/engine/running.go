package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
)

// Running is a backup in progress: one per database at a time.
type Running struct {
	DatabaseID   int64     `json:"databaseId"`
	DatabaseName string    `json:"databaseName"`
	BackupID     string    `json:"backupId"`
	Origin       string    `json:"origin"`
	Started      time.Time `json:"started"`

	mu     sync.Mutex
	last   backup.Progress
	cancel context.CancelCauseFunc
	lock   *dbLock // the database's lock, across processes
}

// Progress is the running backup's latest progress.
func (r *Running) Progress() backup.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// ErrCancelled is the cause of a backup the user cancelled.
var ErrCancelled = errors.New("cancelled by the user")

// start registers a backup of database id, refusing a second one, in this
// process or in another (the database's lock).
func (e *Engine) start(ctx context.Context, id int64, name, backupID, origin string) (context.Context, *Running, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.running[id]; ok {
		return nil, nil, fmt.Errorf("a backup of %s is already running (started %s): wait for it or cancel it",
			name, r.Started.Local().Format("15:04:05"))
	}
	lock, holder, err := tryLockDatabase(e.home, id, lockHolder{PID: os.Getpid(), BackupID: backupID})
	if err != nil {
		return nil, nil, err
	}
	if lock == nil {
		return nil, nil, heldElsewhere(name, holder)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	r := &Running{DatabaseID: id, DatabaseName: name, BackupID: backupID, Origin: origin,
		Started: time.Now().UTC(), cancel: cancel, lock: lock}
	e.running[id] = r
	return ctx, r, nil
}

func (e *Engine) finish(r *Running) {
	r.cancel(nil)
	e.mu.Lock()
	delete(e.running, r.DatabaseID)
	r.lock.release()
	e.mu.Unlock()
}

func (r *Running) observe(fn func(backup.Progress)) func(backup.Progress) {
	return func(p backup.Progress) {
		r.mu.Lock()
		r.last = p
		r.mu.Unlock()
		if fn != nil {
			fn(p)
		}
	}
}

// RunningBackups lists the backups in progress, oldest first.
func (e *Engine) RunningBackups() []*Running {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Running, 0, len(e.running))
	for _, r := range e.running {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// CancelBackup stops the running backup of the named database; it ends as
// cancelled, leaving nothing in any storage.
func (e *Engine) CancelBackup(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.running {
		if r.DatabaseName == name {
			r.cancel(ErrCancelled)
			return nil
		}
	}
	return fmt.Errorf("no backup of %s is running", name)
}
