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
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/store"
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

// backupJob is a backup job as startBackupJob started it.
type backupJob struct {
	id  format.BackupID
	run *Running
	rec store.Backup // its history record, as created: running
	ev  JobEvent     // its job.finished event, to fill in at the end
}

// startBackupJob draws a new backup's ID, registers its backup of database
// d (start), records it in the history as running and only then announces
// the job: to the face that asked (WithJobStarted), then as a job.started
// event. A face told of the job can so count on its record: were PgSafe
// killed the next moment, the next start finds the record and marks it
// interrupted. The caller defers finish(job.run) and reports the end with
// backupJobFinished(ctx, job.ev, …).
func (e *Engine) startBackupJob(ctx context.Context, d store.Database, name, origin string) (context.Context, backupJob, error) {
	id, err := format.NewBackupID()
	if err != nil {
		return nil, backupJob{}, err
	}
	ctx, run, err := e.start(ctx, d.ID, name, id.String(), origin)
	if err != nil {
		return nil, backupJob{}, err
	}
	rec := store.Backup{ID: id.String(), DatabaseID: d.ID, Status: store.StatusRunning, Origin: origin,
		StartedAt: time.Now().UTC(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: name}}
	if err := e.store.CreateBackup(ctx, rec); err != nil {
		e.finish(run)
		return nil, backupJob{}, err
	}
	ev := JobEvent{Job: JobBackup, JobID: rec.ID, Database: name, Origin: origin}
	jobStarted(ctx, ev.JobID)
	started := ev
	started.Type = EventJobStarted
	e.publish(started)
	return ctx, backupJob{id: id, run: run, rec: rec, ev: ev}, nil
}

// backupJobFinished announces the end of a backup job started by
// startBackupJob: partial when its history record b says some of it failed.
func (e *Engine) backupJobFinished(ctx context.Context, jev JobEvent, b *store.Backup, err error) {
	if b != nil && b.Error != "" {
		jev.Outcome, jev.Error = "partial", b.Error
	}
	e.jobFinished(ctx, jev, err)
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
