package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// StoredBackup is a backup found in a storage by its manifest: what a new
// machine with the storage and the key can list and restore, without any
// history.
type StoredBackup struct {
	Manifest *backup.Manifest `json:"manifest,omitempty"`
	Object   string           `json:"object"` // the manifest's object name
	// Error says why the manifest could not be read (another key, damaged).
	Error string `json:"error,omitempty"`
	// InHistory: this machine's history has the backup already.
	InHistory bool `json:"in_history"`
}

// StorageBackups lists the backups in the named storage, newest first, by
// reading every manifest with this machine's key.
func (e *Engine) StorageBackups(ctx context.Context, storageName string) ([]StoredBackup, error) {
	st, err := e.store.StorageByName(ctx, storageName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("storage", storageName)
	} else if err != nil {
		return nil, err
	}
	c, err := e.store.StorageCredentials(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	s, closeS, err := e.openStorage(ctx, c)
	if err != nil {
		return nil, err
	}
	defer closeS()
	objs, err := s.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list storage %s: %w", storageName, err)
	}
	out := []StoredBackup{} // an empty storage lists as [], not null
	for _, o := range objs {
		if !strings.HasSuffix(o.Name, ".manifest.pgsafe") {
			continue
		}
		sb := StoredBackup{Object: o.Name}
		rc, err := s.Open(ctx, o.Name)
		if err == nil {
			sb.Manifest, err = backup.ReadManifest(rc, keys.Keys{e.key})
			rc.Close()
		}
		if err != nil {
			sb.Error = err.Error()
		} else if _, herr := e.store.Backup(ctx, sb.Manifest.BackupID); herr == nil {
			sb.InHistory = true
		}
		out = append(out, sb)
	}
	e.checkStorageWitnesses(ctx, out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Manifest, out[j].Manifest
		if a == nil || b == nil {
			return a != nil
		}
		return a.Started.After(b.Started)
	})
	return out, nil
}

// ImportStoredBackup adds a backup found in a storage to this machine's
// history (origin "import"), so it can be verified and restored like any
// other. A backup already in the history is returned as it is.
func (e *Engine) ImportStoredBackup(ctx context.Context, storageName, backupID string) (store.Backup, error) {
	if b, err := e.store.Backup(ctx, backupID); err == nil {
		return b, nil
	}
	list, err := e.StorageBackups(ctx, storageName)
	if err != nil {
		return store.Backup{}, err
	}
	st, err := e.store.StorageByName(ctx, storageName)
	if err != nil {
		return store.Backup{}, err
	}
	for _, sb := range list {
		m := sb.Manifest
		if m == nil || (m.BackupID != backupID && !(backupID == "latest")) {
			continue
		}
		if sb.InHistory {
			return e.store.Backup(ctx, m.BackupID)
		}
		rec, name, err := e.recordImport(ctx, m, "")
		if err != nil {
			return store.Backup{}, err
		}
		cp := store.BackupCopy{StorageID: st.ID, Status: store.CopyWritten, Size: m.StoredSize, UpdatedAt: m.Finished, Object: m.Object}
		if err := e.store.SetBackupCopy(ctx, rec.ID, cp); err != nil {
			return store.Backup{}, err
		}
		if err := e.record(ctx, Event{Action: "backup.imported", Target: name,
			Fields: map[string]string{"backup_id": rec.ID, "storage": storageName, "storage_id": strconv.FormatInt(st.ID, 10)}}); err != nil {
			return store.Backup{}, err
		}
		return e.store.Backup(ctx, rec.ID)
	}
	return store.Backup{}, fmt.Errorf("%w: storage %s holds no readable backup %s (`pgsafe backups --storage %s` lists them)", ErrNotFound, storageName, backupID, storageName)
}

// recordImport adds a backup known by its manifest to the history, origin
// "import" (file: where a lone file lies; "" for a storage's copy). It
// returns the record and the name it goes by.
func (e *Engine) recordImport(ctx context.Context, m *backup.Manifest, file string) (store.Backup, string, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return store.Backup{}, "", err
	}
	name := m.Label
	if name == "" {
		name = m.DatabaseName
	}
	rec := store.Backup{ID: m.BackupID, Status: store.StatusSucceeded, Origin: store.OriginImport,
		StartedAt: m.Started, FinishedAt: m.Finished, RawSize: m.RawSize, StoredSize: m.StoredSize, KeyID: m.KeyID,
		BackupDetails: store.BackupDetails{DatabaseName: name, Manifest: raw, File: file}}
	return rec, name, e.store.CreateBackup(ctx, rec)
}
