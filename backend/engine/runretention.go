package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Retention of a server entry's runs. Retention prunes each database's
// backups (applyRetention, after each one); a run's manifest
// (<id>/<run>.run.pgsafe) and the run's roles file beside it go once every
// backup the run lists is gone from that storage: a run manifest that still
// lists a kept backup is never deleted. The run's history record says where
// its manifest is (its copies: written, then deleted).

// recordRunCopies records where run rec's manifest was written: every target
// but those it failed on.
func (e *Engine) recordRunCopies(ctx context.Context, rec store.Backup, id format.BackupID, m *backup.RunManifest, targets []backup.Target, failed []backup.TargetError) {
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Target.ID] = true
	}
	object := backup.RunObjectName("", m.DatabaseID, id)
	for _, t := range targets {
		if !bad[t.ID] {
			e.setCopy(ctx, rec.ID, t, store.CopyWritten, 0, object, nil)
		}
	}
}

// runPrunable says whether a run whose databases' backups are listed is of
// no more use on storage sid: it lists at least one backup, and none of
// them is kept there. backupOf reads a backup's record; a record that
// cannot be read counts as kept.
func runPrunable(m *backup.RunManifest, sid int64, backupOf func(id string) (store.Backup, error)) bool {
	listed := 0
	for _, rd := range m.Databases {
		if rd.BackupID == "" {
			continue
		}
		listed++
		b, err := backupOf(rd.BackupID)
		if err != nil {
			return false
		}
		for _, cp := range b.Copies {
			if cp.StorageID == sid && (cp.Status == store.CopyWritten || cp.Status == store.CopyWriting) {
				return false
			}
		}
	}
	return listed > 0
}

// pruneRuns deletes, from each of targets, the manifests (and roles files)
// of server entry serverID's runs other than current whose every listed
// backup retention has deleted there.
func (e *Engine) pruneRuns(ctx context.Context, serverID int64, name, current string, targets []backup.Target) error {
	runs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: serverID, Manifests: true})
	if err != nil {
		return fmt.Errorf("prune the server's runs: %w", err)
	}
	backupOf := func(id string) (store.Backup, error) {
		bs, err := e.store.Backups(ctx, store.BackupFilter{ID: id}) // the copies: not the manifest
		if err == nil && len(bs) == 0 {
			err = store.ErrNotFound
		}
		if err != nil {
			return store.Backup{}, err
		}
		return bs[0], nil
	}
	var errs []error
	for _, r := range runs {
		m, ok := RunOf(r)
		if !ok || r.ID == current {
			continue
		}
		for _, t := range targets {
			sid, _ := strconv.ParseInt(t.ID, 10, 64)
			var cp *store.BackupCopy
			for i := range r.Copies {
				if r.Copies[i].StorageID == sid && r.Copies[i].Status == store.CopyWritten {
					cp = &r.Copies[i]
				}
			}
			if cp == nil || !runPrunable(m, sid, backupOf) {
				continue
			}
			// The run manifest first: without it the roles file is garbage,
			// never a run that names a missing file.
			objs := []string{cp.Object}
			if m.Globals != nil && m.Globals.Object != "" {
				objs = append(objs, m.Globals.Object)
			}
			var derr error
			for _, obj := range objs {
				if err := t.Storage.Delete(ctx, obj); err != nil && !storage.IsNotFound(err) {
					derr = fmt.Errorf("retention: delete run %s of %s from storage %s: %w", r.ID, name, t.Name, err)
					break
				}
			}
			if derr != nil {
				errs = append(errs, derr)
				continue
			}
			e.setCopy(ctx, r.ID, t, store.CopyDeleted, 0, cp.Object, nil)
			if err := e.record(ctx, Event{Action: "backup.deleted", Target: name, Fields: map[string]string{"backup_id": r.ID, "storage": t.Name,
				"reason": "every database backup of this run was deleted by retention: its run manifest and roles go too"}}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
