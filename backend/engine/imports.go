package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ImportFile adds a backup file that is in no storage of this machine (a
// file copied from another machine, opened with its recovery kit) to the
// history, so it can be verified and restored like any other. Its manifest
// is read from beside it (NAME.manifest.pgsafe) when there; otherwise the
// file is read end to end and described from its own contents, without row
// counts (restore.Inspect). The file stays where it is and is read from
// there.
//
// The backup returned is always read from the file named, never from a
// storage: verifying or restoring FILE.pgsafe checks that file. A backup
// already in the history keeps its record (what was recorded at backup time
// is what the file is checked against), with the file as its only copy; so
// a good copy of a backup that retention pruned from storage still restores,
// and a damaged copy of a backup whose storage copy is fine is reported as
// damaged.
func (e *Engine) ImportFile(ctx context.Context, path string) (store.Backup, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return store.Backup{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return store.Backup{}, fmt.Errorf("import %s: %w", abs, err)
	}
	defer f.Close()
	h, err := format.ParseHeader(f) // unauthenticated: only to find the ID; Inspect or restores check it
	if err != nil {
		return store.Backup{}, fmt.Errorf("import %s: %w", abs, err)
	}
	if b, err := e.store.Backup(ctx, h.BackupID.String()); err == nil {
		return fromFile(b, abs), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Backup{}, err
	}
	if h.KeyID != e.key.ID() {
		return store.Backup{}, fmt.Errorf("import %s: %w", abs, &keys.WrongKeyError{Need: h.KeyID, Have: []keys.KeyID{e.key.ID()}})
	}
	m, err := e.fileManifest(ctx, f, abs)
	if err != nil {
		return store.Backup{}, fmt.Errorf("import %s: %w", abs, err)
	}
	if m.BackupID != h.BackupID.String() {
		return store.Backup{}, fmt.Errorf("import %s: the manifest beside it belongs to backup %s, the file is backup %s", abs, m.BackupID, h.BackupID)
	}
	m.Object = filepath.Base(abs)
	rec, name, err := e.recordImport(ctx, m, abs)
	if err != nil {
		return store.Backup{}, err
	}
	if err := e.record(ctx, Event{Action: "backup.imported", Target: name, Fields: map[string]string{"backup_id": rec.ID, "from": "file"}}); err != nil {
		return store.Backup{}, err
	}
	b, err := e.store.Backup(ctx, rec.ID)
	return fromFile(b, abs), err
}

// fromFile is b read from the file at path instead of its storages.
func fromFile(b store.Backup, path string) store.Backup {
	b.File, b.Copies = path, nil
	return b
}

// fileManifest reads the manifest beside the backup file at path, or
// describes the file from its contents when there is none.
func (e *Engine) fileManifest(ctx context.Context, f *os.File, path string) (*backup.Manifest, error) {
	mpath := backup.ManifestOf(path)
	mf, err := os.Open(mpath)
	if err == nil {
		defer mf.Close()
		m, err := backup.ReadManifest(mf, keys.Keys{e.key})
		if err != nil {
			// The manifest is what is wrong, not the backup file: say which.
			return nil, fmt.Errorf("the manifest beside it, %s, cannot be read (%w): move it away to read the backup file on its own", filepath.Base(mpath), err)
		}
		return m, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	pgRestore := "" // the newest: it reads every older archive
	newest := -1
	for _, in := range e.clients(ctx) {
		if in.PgRestore != "" && in.Version.Major > newest {
			pgRestore, newest = in.PgRestore, in.Version.Major
		}
	}
	if pgRestore == "" {
		return nil, errors.New("no pg_restore was found on this machine to read the file: install the PostgreSQL client tools, or set their folder in Settings")
	}
	m, err := restore.Inspect(ctx, f, filepath.Base(path), keys.Keys{e.key}, pgRestore)
	if err != nil {
		return nil, err
	}
	m.Started, m.Finished = fi.ModTime().UTC(), fi.ModTime().UTC()
	return m, nil
}
