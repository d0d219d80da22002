package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/store"
)

// BackupByHand is BackupNow started by a person (origin manual): a face's
// "back up now".
func (e *Engine) BackupByHand(ctx context.Context, name string, progress func(backup.Progress)) (*store.Backup, error) {
	return e.BackupNow(ctx, name, store.OriginManual, progress)
}

// BackupNow makes one backup of the named database to every storage it is
// configured with, recording it in the history (running, then succeeded or
// failed with the reason) and in the audit log.
func (e *Engine) BackupNow(ctx context.Context, name, origin string, progress func(backup.Progress)) (_ *store.Backup, err error) {
	d, c, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(c.StorageIDs) == 0 {
		return nil, fmt.Errorf("database %q has no storage to back up to: add one (`pgsafe storage add`) and assign it", name)
	}
	id, err := format.NewBackupID()
	if err != nil {
		return nil, err
	}
	ctx, run, err := e.start(ctx, d.ID, c.Name, id.String(), origin)
	if err != nil {
		return nil, err
	}
	defer e.finish(run)
	jev := JobEvent{Job: JobBackup, JobID: id.String(), Database: c.Name, Origin: origin}
	jobStarted(ctx, id.String())
	e.publish(JobEvent{Type: EventJobStarted, Job: JobBackup, JobID: id.String(), Database: c.Name, Origin: origin})
	var b *store.Backup
	defer func() {
		if b != nil && b.Error != "" {
			jev.Outcome, jev.Error = "partial", b.Error
		}
		e.jobFinished(ctx, jev, err)
	}()
	caller := progress
	progress = run.observe(func(p backup.Progress) {
		if caller != nil {
			caller(p)
		}
		e.publish(JobEvent{Type: EventJobProgress, Job: JobBackup, JobID: id.String(), Database: c.Name, Origin: origin, Backup: &p})
	})
	rec := store.Backup{ID: id.String(), DatabaseID: d.ID, Status: store.StatusRunning, Origin: origin,
		StartedAt: time.Now().UTC(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: c.Name}}
	if err := e.store.CreateBackup(ctx, rec); err != nil {
		return nil, err
	}
	fields := map[string]string{"backup_id": rec.ID, "origin": origin}
	if err := e.record(ctx, Event{Action: "backup.started", Target: c.Name, Fields: fields}); err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}

	targets, closeAll, err := e.targets(ctx, c.StorageIDs)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	defer closeAll()
	defer e.sweepAfterBackup(ctx, d.ID, targets)
	cfg, closeTunnel, err := connect(ctx, c)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	defer closeTunnel()

	job := backup.Job{ID: id, DatabaseID: strconv.FormatInt(d.ID, 10), Label: c.Name, Conn: cfg.ToolConn(),
		Clients: e.clients(ctx), Key: e.key, Targets: targets, Progress: progress, Log: e.log,
		Timeout: c.Timeout, StallAfter: e.stallAfter, AuditWitness: e.auditWitness(ctx)}
	if !c.CountRows {
		job.Count = func(string, string) bool { return false }
	}
	res, err := backup.Run(ctx, job)
	if err != nil {
		// Only a failure of the storages themselves is theirs to show: a
		// refused password or a pg_dump error wrote nothing anywhere.
		if se := (*backup.StorageError)(nil); errors.As(err, &se) {
			for _, t := range targets {
				e.setCopy(ctx, rec.ID, t, store.CopyFailed, 0, "", err)
			}
		}
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	m := res.Manifest
	rec.Status, rec.FinishedAt = store.StatusSucceeded, m.Finished
	rec.RawSize, rec.StoredSize = m.RawSize, m.StoredSize
	if len(res.Failed) > 0 {
		rec.Error = partialMessage(res.Failed, len(targets))
	}
	if rec.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	if err := e.store.UpdateBackup(ctx, rec); err != nil {
		return nil, err
	}
	for _, sc := range m.Storages {
		for _, t := range targets {
			if t.ID == sc.StorageID {
				e.setCopy(ctx, rec.ID, t, store.CopyWritten, m.StoredSize, m.Object, nil)
			}
		}
	}
	for _, f := range res.Failed {
		e.setCopy(ctx, rec.ID, f.Target, store.CopyFailed, 0, m.Object, f.Err)
	}
	fields["raw_size"], fields["stored_size"] = strconv.FormatInt(m.RawSize, 10), strconv.FormatInt(m.StoredSize, 10)
	fields["storages"] = strconv.Itoa(len(m.Storages))
	ev := Event{Action: "backup.finished", Target: c.Name, Fields: fields}
	if len(res.Failed) > 0 {
		ev.Outcome, ev.Message = "partial", rec.Error
	}
	if err := e.record(ctx, ev); err != nil {
		return nil, err
	}
	if err := e.applyRetention(ctx, d.ID, c.Name, targets); err != nil {
		e.log.Error("retention after a backup", "database", c.Name, "err", err)
	}
	e.checkSpace(ctx, c.Name, targets, m.StoredSize)
	stored, err := e.store.Backup(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	b = &stored
	e.notifyBackup(c.Name, b, nil, rec.Error)
	e.drillAfterBackup(ctx, stored)
	return b, nil
}

// partialMessage says which storages lack a backup that others hold.
func partialMessage(failed []backup.TargetError, of int) string {
	msg := fmt.Sprintf("written to %d of %d storages; ", of-len(failed), of)
	for i, f := range failed {
		if i > 0 {
			msg += "; "
		}
		msg += f.Err.Error()
	}
	return msg
}

// setCopy records a backup's result on one storage (best effort: the backup
// itself is already recorded).
func (e *Engine) setCopy(ctx context.Context, backupID string, t backup.Target, st store.CopyStatus, size int64, object string, cause error) {
	sid, _ := strconv.ParseInt(t.ID, 10, 64)
	cp := store.BackupCopy{StorageID: sid, Status: st, Size: size, UpdatedAt: time.Now().UTC(), Object: object}
	if cause != nil {
		cp.Error = cause.Error()
	}
	if err := e.store.SetBackupCopy(context.WithoutCancel(ctx), backupID, cp); err != nil {
		e.log.Error("record a backup's copy", "backup", backupID, "storage", t.Name, "err", err)
	}
}

// failBackup records a failed (or cancelled) backup and returns err.
func (e *Engine) failBackup(ctx context.Context, rec *store.Backup, name string, err error) error {
	ctx = context.WithoutCancel(ctx)
	rec.Status, rec.FinishedAt, rec.Error = store.StatusFailed, time.Now().UTC(), err.Error()
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled) {
		rec.Status = store.StatusCancelled
	} else {
		e.notifyBackup(name, rec, err, "")
	}
	if uerr := e.store.UpdateBackup(ctx, *rec); uerr != nil {
		e.log.Error("record a failed backup", "backup", rec.ID, "err", uerr)
	}
	if aerr := e.record(ctx, Event{Action: "backup.failed", Outcome: "failed", Target: name,
		Fields: map[string]string{"backup_id": rec.ID}, Message: err.Error()}); aerr != nil {
		e.log.Error("audit a failed backup", "backup", rec.ID, "err", aerr)
	}
	return err
}

// clients are the pg_dump installs of this machine, the user's folder first.
func (e *Engine) clients(ctx context.Context) []pgtools.Install {
	var extra []string
	if dir, err := e.store.Setting(ctx, "pgtools.dir"); err == nil && dir != "" {
		extra = append(extra, dir)
	}
	return pgtools.Discover(ctx, extra...)
}

// Backups is a database's history, newest first.
func (e *Engine) Backups(ctx context.Context, name string, limit int) ([]store.Backup, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("db", name)
	} else if err != nil {
		return nil, err
	}
	// For showing: a record modified outside PgSafe is listed as damaged
	// rather than hiding the whole history. Nothing acts on this list.
	return e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Limit: limit, IncludeDamaged: true})
}

// manifest is a stored backup's manifest.
func manifest(b store.Backup) (*backup.Manifest, error) {
	if b.Status != store.StatusSucceeded || len(b.Manifest) == 0 {
		return nil, fmt.Errorf("backup %s did not finish (%s): it cannot be read back", b.ID, b.Status)
	}
	return backup.ParseManifest(b.Manifest)
}
