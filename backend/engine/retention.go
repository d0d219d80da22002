package engine

import (
	"context"
	"errors"
	"fmt"
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
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("db", name)
	} else if err != nil {
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
	r, err := e.store.Retention(ctx, d.ID)
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
	pol, err := e.store.Retention(ctx, dbID)
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
		for _, dec := range retention.Apply(pol.RetentionPolicy, items, time.Now(), time.Local) {
			if dec.Keep {
				continue
			}
			b := byID[dec.Backup.ID]
			if err := e.deleteCopy(ctx, b, t, name, strings.Join(dec.Reasons, "; ")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// deleteCopy removes one backup's object and manifest from a storage and
// records it.
func (e *Engine) deleteCopy(ctx context.Context, b store.Backup, t backup.Target, dbName, why string) error {
	m, err := manifest(b)
	if err != nil {
		return err
	}
	// The manifest goes first: without it the object is no longer a backup,
	// so a crash between the two deletes leaves garbage, never a half backup.
	for _, obj := range []string{backup.ManifestOf(m.Object), m.Object} {
		if err := t.Storage.Delete(ctx, obj); err != nil && !storage.IsNotFound(err) {
			return fmt.Errorf("retention: delete backup %s from storage %s: %w", b.ID, t.Name, err)
		}
	}
	e.setCopy(ctx, b.ID, t, store.CopyDeleted, 0, m.Object, nil)
	return e.record(ctx, Event{Action: "backup.deleted", Target: dbName,
		Fields: map[string]string{"backup_id": b.ID, "storage": t.Name, "reason": why}})
}
