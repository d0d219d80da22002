package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/timing"
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
// A server entry's backup is a run of every database on it (backupServer).
func (e *Engine) BackupNow(ctx context.Context, name, origin string, progress func(backup.Progress)) (*store.Backup, error) {
	d, c, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.AllDatabases {
		return e.backupServer(ctx, d, c, origin, progress)
	}
	if !c.Gone.IsZero() {
		return nil, fmt.Errorf("the database %s is no longer on its server (missing since %s): its backups are kept, but there is nothing to back up",
			c.DBName, c.Gone.Local().Format("2 Jan 2006 15:04"))
	}
	return e.backupOne(ctx, d, c, origin, progress, nil)
}

// backupOne makes one backup of database d (c: its credentials); globals,
// when set, are its server's, captured once for a server entry's run (nil:
// the backup captures them).
func (e *Engine) backupOne(ctx context.Context, d store.Database, c store.DatabaseConfig, origin string, progress func(backup.Progress), globals *backup.Globals) (_ *store.Backup, err error) {
	name := c.Name
	if len(c.StorageIDs) == 0 {
		return nil, fmt.Errorf("database %q has no storage to back up to: add a storage and choose it for this database", name)
	}
	ph := timing.Start(e.log, "backup", "database", c.Name)
	defer ph.End()
	ctx, bj, err := e.startBackupJob(ctx, d, c.Name, origin)
	if err != nil {
		return nil, err
	}
	ph.Done("history record")
	defer e.finish(bj.run)
	var b *store.Backup
	defer func() { e.backupJobFinished(ctx, bj.ev, b, err) }()
	id, run, rec := bj.id, bj.run, bj.rec
	caller := progress
	progress = run.observe(func(p backup.Progress) {
		if caller != nil {
			caller(p)
		}
		e.publish(JobEvent{Type: EventJobProgress, Job: JobBackup, JobID: id.String(), Database: c.Name, Origin: origin, Backup: &p})
	})
	fields := map[string]string{"backup_id": rec.ID, "origin": origin}
	if err := e.record(ctx, Event{Action: "backup.started", Target: c.Name, Fields: fields}); err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	e.notifyStarted(ctx, c.Name)

	// A storage that cannot be opened fails its copy; the backup goes to
	// the others (partial), and fails only when none can be opened.
	targets, closeAll, unopened := e.openTargets(ctx, c.StorageIDs)
	defer closeAll()
	if len(targets) == 0 {
		for _, f := range unopened {
			e.setCopy(ctx, rec.ID, f.Target, store.CopyFailed, 0, "", f.Err)
		}
		return nil, e.failBackup(ctx, &rec, c.Name, unopenedError(unopened))
	}
	defer e.sweepAfterBackup(ctx, d.ID, targets)
	cfg, closeTunnel, err := connect(ctx, c)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	defer closeTunnel()
	ph.Done("audit entry, storages, connection")

	job := backup.Job{ID: id, DatabaseID: strconv.FormatInt(d.ID, 10), Label: c.Name, Conn: cfg.ToolConn(),
		Clients: e.clients(ctx), Key: e.key, Targets: targets, Progress: progress, Log: e.log,
		Timeout: c.Timeout, StallAfter: e.stallAfter, AuditWitness: e.auditWitness(ctx), Globals: globals}
	if !c.CountRows {
		job.Count = func(string, string) bool { return false }
	}
	ph.Done("pg_dump installs, audit witness")
	res, err := backup.Run(ctx, job)
	ph.Done("backup.Run")
	if err == nil {
		res.Failed = append(res.Failed, unopened...)
	}
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
		rec.Error = partialMessage(res.Failed, len(targets)+len(unopened))
	}
	if rec.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	if err := e.finishRecord(ctx, rec, targets, res); err != nil {
		return nil, err
	}
	fields["raw_size"], fields["stored_size"] = strconv.FormatInt(m.RawSize, 10), strconv.FormatInt(m.StoredSize, 10)
	fields["storages"] = strconv.Itoa(len(m.Storages))
	if m.GlobalsMissing != "" {
		fields["roles_missing"] = m.GlobalsMissing
	}
	ev := Event{Action: "backup.finished", Target: c.Name, Fields: fields}
	if len(res.Failed) > 0 {
		ev.Outcome, ev.Message = "partial", rec.Error
	}
	ph.Done("history and copies recorded")
	if err := e.record(ctx, ev); err != nil {
		return nil, err
	}
	ph.Done("audit entry")
	if err := e.applyRetention(ctx, d.ID, c.Name, targets); err != nil {
		e.log.Error("retention after a backup", "database", c.Name, "err", err)
	}
	ph.Done("retention")
	if !inRun(ctx) { // a server entry's run warns and notifies once for all its databases
		e.checkSpace(ctx, c.Name, targets, m.StoredSize)
	}
	ph.Done("free space")
	stored, err := e.store.Backup(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	b = &stored
	e.notifyBackup(ctx, c.Name, b, nil, rec.Error)
	e.drillAfterBackup(ctx, stored)
	return b, nil
}

// unopenedError is the failure of a backup none of whose storages could be
// opened: each one's reason.
func unopenedError(failed []backup.TargetError) error {
	errs := make([]error, len(failed))
	for i, f := range failed {
		errs[i] = f.Err
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("no storage could be opened: %w", errors.Join(errs...))
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

// finishRecord records a finished backup, its result on each storage and
// its audit witness in one transaction. Should that fail on a copy (a
// storage removed meanwhile), the backup is recorded alone and each copy and
// the witness on their own, best effort, as before.
func (e *Engine) finishRecord(ctx context.Context, rec store.Backup, targets []backup.Target, res *backup.Result) error {
	m := res.Manifest
	var copies []store.BackupCopy
	var names []string
	for _, sc := range m.Storages {
		for _, t := range targets {
			if t.ID == sc.StorageID {
				copies, names = append(copies, copyOf(t, store.CopyWritten, m.StoredSize, m.Object, nil)), append(names, t.Name)
			}
		}
	}
	for _, f := range res.Failed {
		copies, names = append(copies, copyOf(f.Target, store.CopyFailed, 0, m.Object, f.Err)), append(names, f.Target.Name)
	}
	var also []store.SettingChange
	if c, ok := e.witnessChange(ctx, m.Audit); ok {
		also = append(also, c)
	}
	err := e.store.FinishBackup(ctx, rec, copies, also...)
	if err == nil {
		return nil
	}
	e.log.Warn("record a backup with its copies", "backup", rec.ID, "err", err)
	if err := e.store.UpdateBackup(ctx, rec); err != nil {
		return err
	}
	for i, cp := range copies {
		if err := e.store.SetBackupCopy(context.WithoutCancel(ctx), rec.ID, cp); err != nil {
			e.log.Error("record a backup's copy", "backup", rec.ID, "storage", names[i], "err", err)
		}
	}
	e.keepWitness(ctx, m.Audit)
	return nil
}

// setCopy records a backup's result on one storage (best effort: the backup
// itself is already recorded).
func (e *Engine) setCopy(ctx context.Context, backupID string, t backup.Target, st store.CopyStatus, size int64, object string, cause error) {
	if err := e.store.SetBackupCopy(context.WithoutCancel(ctx), backupID, copyOf(t, st, size, object, cause)); err != nil {
		e.log.Error("record a backup's copy", "backup", backupID, "storage", t.Name, "err", err)
	}
}

// copyOf is a backup's result on storage t.
func copyOf(t backup.Target, st store.CopyStatus, size int64, object string, cause error) store.BackupCopy {
	sid, _ := strconv.ParseInt(t.ID, 10, 64)
	cp := store.BackupCopy{StorageID: sid, Status: st, Size: size, UpdatedAt: time.Now().UTC(), Object: object}
	if cause != nil {
		cp.Error = cause.Error()
	}
	return cp
}

// failBackup records a failed (or cancelled) backup and returns err.
func (e *Engine) failBackup(ctx context.Context, rec *store.Backup, name string, err error) error {
	ctx = context.WithoutCancel(ctx)
	rec.Status, rec.FinishedAt, rec.Error = store.StatusFailed, time.Now().UTC(), err.Error()
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled) {
		rec.Status = store.StatusCancelled
		e.notifyCancelled(ctx, name, rec)
	} else {
		e.notifyBackup(ctx, name, rec, err, "")
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

// manifestOf is a stored backup's manifest, read from the settings database
// when b was listed without it (store.BackupFilter.Manifests).
func (e *Engine) manifestOf(ctx context.Context, b store.Backup) (*backup.Manifest, error) {
	if len(b.Manifest) == 0 && b.Status == store.StatusSucceeded {
		m, err := e.store.Manifest(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		b.Manifest = m
	}
	return manifest(b)
}

// manifest is a stored backup's manifest.
func manifest(b store.Backup) (*backup.Manifest, error) {
	if backup.IsRunManifest(b.Manifest) {
		return nil, fmt.Errorf("%s is a run of the server entry %s, which backs up each database on its own: restore or verify one of them (%s)",
			b.ID, b.DatabaseName, ChildName(b.DatabaseName, "DATABASE"))
	}
	if b.Status != store.StatusSucceeded || len(b.Manifest) == 0 {
		return nil, fmt.Errorf("backup %s did not finish (%s): it cannot be read back", b.ID, b.Status)
	}
	return backup.ParseManifest(b.Manifest)
}
