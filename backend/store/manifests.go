package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
	"github.com/pgsafe/pgsafe/backend/seal"
)

// schemaV4 keeps each backup's manifest in a table of its own. A manifest
// lists every table of the database with its row count (about 1 MB for
// 10,000 tables): sealed into the backup's row, it was authenticated,
// decrypted and parsed by every listing of the history (the status, the
// window's history, retention after each backup), none of which needs it.
// Now it is read where it is used: Backup, and Backups with
// BackupFilter.Manifests.
const schemaV4 = `
CREATE TABLE backup_manifests (
  backup_id TEXT PRIMARY KEY REFERENCES backups(id) ON DELETE CASCADE,
  sealed    BLOB NOT NULL,
  version   INTEGER NOT NULL DEFAULT 0,
  mac       BLOB
) STRICT;
`

// A backup_manifests row's sealed record is the manifest's JSON compressed
// with zstd (a list of table names: about a tenth of its size), so that the
// settings database does not grow by a megabyte per backup of a database of
// 10,000 tables. maxManifest bounds what a record opens to.
const maxManifest = 256 << 20

func (s *Store) sealManifest(id string, manifest json.RawMessage) ([]byte, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	return s.sealer.Seal(seal.AD{Table: "backup_manifests", Row: id, SchemaVersion: recordVersion}, enc.EncodeAll(manifest, nil))
}

func (s *Store) openManifest(id string, blob []byte) (json.RawMessage, error) {
	pt, err := s.openBlob("backup_manifests", id, blob)
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxManifest))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	m, err := dec.DecodeAll(pt, nil)
	if err != nil {
		return nil, fmt.Errorf("settings database %s: backup_manifests row %s: %w", s.path, id, err)
	}
	return m, nil
}

// setManifest records (or replaces) backup id's manifest.
func (s *Store) setManifest(ctx context.Context, tx *sql.Tx, id string, manifest json.RawMessage) error {
	blob, err := s.sealManifest(id, manifest)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO backup_manifests(backup_id, sealed) VALUES (?, ?)
		ON CONFLICT(backup_id) DO UPDATE SET sealed = excluded.sealed`, id, blob)
	if err != nil {
		return s.wrap("record backup manifest", err)
	}
	return s.stampRows(ctx, tx, "backup_manifests", "backup_id = ?", id)
}

// manifest reads backup id's manifest (nil when none is recorded: a backup
// that did not succeed).
func (s *Store) manifest(ctx context.Context, q querier, id string) (json.RawMessage, error) {
	var (
		blob []byte
		bd   binding
	)
	err := q.QueryRowContext(ctx, `SELECT sealed`+bindingCols("backup_manifests")+` FROM backup_manifests WHERE backup_id = ?`, id).
		Scan(append([]any{&blob}, bd.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("read backup manifest", err)
	}
	if err := s.checkBinding("backup_manifests", &bd); err != nil {
		return nil, err
	}
	return s.openManifest(id, blob)
}

// Manifest is backup id's manifest (nil when none is recorded), for a
// backup listed without it.
func (s *Store) Manifest(ctx context.Context, id string) (json.RawMessage, error) {
	var m json.RawMessage
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if m, err = s.manifest(ctx, tx, id); m != nil || err != nil {
			return err
		}
		// A record migration 4 left as found (modified outside PgSafe,
		// then accepted) still holds its manifest.
		bs, err := s.backups(ctx, tx, false, false, "WHERE id = ?", id)
		if err == nil && len(bs) == 1 {
			m = bs[0].Manifest
		}
		return err
	})
	return m, err
}

// moveManifests is migration 4: each backup's manifest moves out of its
// sealed record into backup_manifests, and the one fact of it that the
// history shows (why the server's roles were not saved) into the record.
// One record at a time: a long history of many tables is hundreds of
// megabytes. A row modified outside PgSafe is left as it is (with its
// manifest inside, still read): binding it again here would accept the
// change, and updateRows refuses it.
func moveManifests(ctx context.Context, s *Store, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, schemaV4); err != nil {
		return err
	}
	var ids []string
	rs, err := tx.QueryContext(ctx, "SELECT id FROM backups ORDER BY rowid")
	if err != nil {
		return err
	}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return err
		}
		ids = append(ids, id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		var blob []byte
		if err := tx.QueryRowContext(ctx, "SELECT sealed FROM backups WHERE id = ?", id).Scan(&blob); err != nil {
			return err
		}
		var d BackupDetails
		if s.openRow("backups", id, blob, &d, false) != nil || len(d.Manifest) == 0 {
			continue // a record that does not open is reported when read
		}
		sealed, err := s.sealDetails(Backup{ID: id, BackupDetails: d})
		if err != nil {
			return err
		}
		var damaged *DamagedRowError
		if _, err := s.updateRows(ctx, tx, "backups", "id = ?", []any{id}, "sealed = ?", sealed); errors.As(err, &damaged) {
			continue
		} else if err != nil {
			return fmt.Errorf("backup %s: %w", id, err)
		}
		if err := s.setManifest(ctx, tx, id, d.Manifest); err != nil {
			return err
		}
	}
	return nil
}

// globalsMissing is a manifest's "globals_missing" (docs/BACKUP.md: why the
// server's roles were not saved with the backup), "" without one.
func globalsMissing(manifest []byte) string {
	if !bytes.Contains(manifest, []byte(`"globals_missing"`)) {
		return ""
	}
	var m struct {
		GlobalsMissing string `json:"globals_missing"`
	}
	if json.Unmarshal(manifest, &m) != nil {
		return ""
	}
	return m.GlobalsMissing
}
