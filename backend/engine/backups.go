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

// BackupNow makes one backup of the named database to every storage it is
// configured with, recording it in the history (running, then succeeded or
// failed with the reason) and in the audit log.
func (e *Engine) BackupNow(ctx context.Context, name, origin string, progress func(backup.Progress)) (*store.Backup, error) {
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
	cfg, closeTunnel, err := connect(ctx, c)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	defer closeTunnel()

	job := backup.Job{ID: id, DatabaseID: strconv.FormatInt(d.ID, 10), Label: c.Name, Conn: cfg.ToolConn(),
		Clients: e.clients(ctx), Key: e.key, Targets: targets, Progress: progress, Log: e.log}
	if !c.CountRows {
		job.Count = func(string, string) bool { return false }
	}
	m, err := backup.Run(ctx, job)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	rec.Status, rec.FinishedAt = store.StatusSucceeded, m.Finished
	rec.RawSize, rec.StoredSize = m.RawSize, m.StoredSize
	if rec.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	if err := e.store.UpdateBackup(ctx, rec); err != nil {
		return nil, err
	}
	for _, t := range targets {
		sid, _ := strconv.ParseInt(t.ID, 10, 64)
		cp := store.BackupCopy{StorageID: sid, Status: store.CopyWritten, Size: m.StoredSize, UpdatedAt: m.Finished, Object: m.Object}
		if err := e.store.SetBackupCopy(ctx, rec.ID, cp); err != nil {
			return nil, err
		}
	}
	fields["raw_size"], fields["stored_size"] = strconv.FormatInt(m.RawSize, 10), strconv.FormatInt(m.StoredSize, 10)
	if err := e.record(ctx, Event{Action: "backup.finished", Target: c.Name, Fields: fields}); err != nil {
		return nil, err
	}
	b, err := e.store.Backup(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// failBackup records a failed (or cancelled) backup and returns err.
func (e *Engine) failBackup(ctx context.Context, rec *store.Backup, name string, err error) error {
	ctx = context.WithoutCancel(ctx)
	rec.Status, rec.FinishedAt, rec.Error = store.StatusFailed, time.Now().UTC(), err.Error()
	if errors.Is(err, context.Canceled) {
		rec.Status = store.StatusCancelled
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
	return e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Limit: limit})
}

// manifest is a stored backup's manifest.
func manifest(b store.Backup) (*backup.Manifest, error) {
	if b.Status != store.StatusSucceeded || len(b.Manifest) == 0 {
		return nil, fmt.Errorf("backup %s did not finish (%s): it cannot be read back", b.ID, b.Status)
	}
	return backup.ParseManifest(b.Manifest)
}
