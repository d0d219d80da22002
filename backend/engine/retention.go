package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/retention"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/store"
)

// SetRetention sets the named database's retention policy (all zero: keep
// everything) and records the change.
func (e *Engine) SetRetention(ctx context.Context, name string, p store.RetentionPolicy) error {
	d, err := e.policyEntry(ctx, name)
	if err != nil {
		return err
	}
	changes, err := e.store.SetRetention(ctx, d.ID, p)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	return e.record(ctx, Event{Action: "retention.changed", Target: name,
		Fields: map[string]string{"fields": strings.Join(changes, ","), "policy": retention.Describe(p)}})
}

// Retention is the named database's policy (zero: keep everything).
func (e *Engine) Retention(ctx context.Context, name string) (store.RetentionPolicy, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.RetentionPolicy{}, notFound("db", name)
	} else if err != nil {
		return store.RetentionPolicy{}, err
	}
	r, err := e.store.Retention(ctx, e.policyOwner(ctx, d.ID))
	if errors.Is(err, store.ErrNotFound) {
		return store.RetentionPolicy{}, nil
	}
	return r.RetentionPolicy, err
}

// applyRetention prunes a database's backups on each of targets by its
// policy, after a successful backup. Each storage is pruned on its own
// history (a backup that failed on one storage does not count there); every
// deletion is audited.
func (e *Engine) applyRetention(ctx context.Context, dbID int64, name string, targets []backup.Target) error {
	pol, err := e.store.Retention(ctx, e.policyOwner(ctx, dbID))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	// Retention deletes by sizes, times and statuses read from the settings
	// database: never on a database modified outside PgSafe (a row rolled
	// back, the file replaced by an older copy). A single edited row fails
	// the read below.
	if err := e.store.CheckIntegrity(ctx); err != nil {
		return fmt.Errorf("retention not applied: %w", err)
	}
	history, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: dbID})
	if err != nil {
		return fmt.Errorf("retention not applied: %w", err)
	}
	var errs []error
	for _, t := range targets {
		sid, _ := strconv.ParseInt(t.ID, 10, 64)
		var items []retention.Backup
		byID := map[string]store.Backup{}
		for _, b := range history {
			for _, cp := range b.Copies {
				if cp.StorageID == sid && cp.Status == store.CopyWritten && b.Status == store.StatusSucceeded {
					items = append(items, retention.Backup{ID: b.ID, Time: b.StartedAt, Size: cp.Size, Good: true})
					byID[b.ID] = b
				}
			}
		}
		now := time.Now()
		for _, dec := range retention.Apply(pol.RetentionPolicy, items, now, time.Local) {
			if dec.Keep {
				continue
			}
			b := byID[dec.Backup.ID]
			cp := copyOn(b, sid)
			why := strings.Join(dec.Reasons, "; ")
			if until, ok := lockedUntil(t, b); ok && until.After(now) {
				e.keepCopy(ctx, b, cp, t, name, why, KeptLocked(until))
				continue
			}
			if cp.Kept == KeptRefused && now.Sub(cp.UpdatedAt) < retryRefusedAfter {
				continue
			}
			err := e.deleteCopy(ctx, b, t, name, why)
			var locked *storage.LockedError
			switch {
			case errors.As(err, &locked):
				e.keepCopy(ctx, b, cp, t, name, why, KeptLocked(locked.Until))
			case errors.Is(err, storage.ErrDeleteRefused):
				e.keepCopy(ctx, b, cp, t, name, why, KeptRefused)
			case err != nil:
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// What retention says of a copy the storage does not let it delete (a
// BackupCopy's Kept): that is the storage's decision, never a failure.
const KeptRefused = "kept: the storage refuses deletes"

// KeptLocked is the Kept of a copy locked until a date.
func KeptLocked(until time.Time) string {
	return "kept until " + until.Local().Format("2006-01-02") + ": the storage's lock"
}

// retryRefusedAfter: a copy whose delete the storage refused (write-only
// credentials) is tried again after this long, not after every backup.
const retryRefusedAfter = 7 * 24 * time.Hour

// lockedUntil is when a backup's objects on t's storage are unlocked, if the
// storage locks what it writes: each object's lock runs from its upload,
// which was before the backup finished, so this is at or after the real
// date (the server has the last word after it).
func lockedUntil(t backup.Target, b store.Backup) (time.Time, bool) {
	l, ok := t.Storage.(storage.Locking)
	if !ok || l.LockDays() <= 0 {
		return time.Time{}, false
	}
	end := b.FinishedAt
	if end.IsZero() {
		end = time.Now()
	}
	return end.Add(time.Duration(l.LockDays()) * 24 * time.Hour), true
}

func copyOn(b store.Backup, storageID int64) store.BackupCopy {
	for _, cp := range b.Copies {
		if cp.StorageID == storageID {
			return cp
		}
	}
	return store.BackupCopy{StorageID: storageID}
}

// keepCopy records that retention keeps a copy it would delete because the
// storage refuses (kept: KeptRefused or KeptLocked). The activity log says
// so once per copy, when its reason first appears.
func (e *Engine) keepCopy(ctx context.Context, b store.Backup, cp store.BackupCopy, t backup.Target, dbName, why, kept string) {
	first := cp.Kept != kept
	cp.Kept, cp.UpdatedAt = kept, time.Now().UTC()
	if err := e.store.SetBackupCopy(context.WithoutCancel(ctx), b.ID, cp); err != nil {
		e.log.Error("record a kept backup copy", "backup", b.ID, "storage", t.Name, "err", err)
	}
	if !first {
		return
	}
	e.log.Info("retention keeps a backup the storage does not let it delete", "backup", b.ID, "storage", t.Name, "kept", kept)
	if err := e.record(ctx, Event{Action: "backup.kept", Target: dbName,
		Fields: map[string]string{"backup_id": b.ID, "storage": t.Name, "reason": why, "kept": kept}}); err != nil {
		e.log.Error("audit a kept backup copy", "backup", b.ID, "err", err)
	}
}

// deleteCopy removes one backup's objects (manifest, backup, globals) from a
// storage and records it.
func (e *Engine) deleteCopy(ctx context.Context, b store.Backup, t backup.Target, dbName, why string) error {
	m, err := e.manifestOf(ctx, b)
	if err != nil {
		return err
	}
	// The manifest goes first: without it the object is no longer a backup,
	// so a crash between the two deletes leaves garbage, never a half backup.
	objs := []string{backup.ManifestOf(m.Object), m.Object}
	if m.Globals != nil {
		objs = append(objs, backup.GlobalsOf(m.Object))
	}
	for _, obj := range objs {
		if err := t.Storage.Delete(ctx, obj); err != nil && !storage.IsNotFound(err) {
			return fmt.Errorf("retention: delete backup %s from storage %s: %w", b.ID, t.Name, err)
		}
	}
	e.setCopy(ctx, b.ID, t, store.CopyDeleted, 0, m.Object, nil)
	return e.record(ctx, Event{Action: "backup.deleted", Target: dbName,
		Fields: map[string]string{"backup_id": b.ID, "storage": t.Name, "reason": why}})
}

// RetentionLockAdvice says, for each storage of the named database that
// locks its backups (S3 Object Lock), where its lock and policy p do not
// fit (retention.LockAdvice): "storage vault: …". Empty when they all fit.
func (e *Engine) RetentionLockAdvice(ctx context.Context, name string, p store.RetentionPolicy) ([]string, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("db", name)
	} else if err != nil {
		return nil, err
	}
	sts, err := e.store.Storages(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range sts {
		if st.S3 == nil || st.S3.ObjectLockDays <= 0 || !slices.Contains(d.StorageIDs, st.ID) {
			continue
		}
		if a := retention.LockAdvice(st.S3.ObjectLockDays, p); a != "" {
			out = append(out, "storage "+st.Name+": "+a)
		}
	}
	return out, nil
}
