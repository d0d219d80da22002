package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/seal"
	sqlite3 "modernc.org/sqlite/lib"
)

// Status is the state of a backup, or of a verify, drill or restore run.
type Status string

// Statuses.
const (
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

var statuses = []Status{StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled}

// StatusDamaged is never stored: a history listed with
// BackupFilter.IncludeDamaged shows a record modified outside PgSafe with it,
// its Error saying what happened and every other field but the ID empty.
const StatusDamaged Status = "damaged"

// Backup origins.
const (
	OriginManual    = "manual"
	OriginScheduled = "scheduled"
	OriginImport    = "import" // a backup file brought in from elsewhere
)

var origins = []string{OriginManual, OriginScheduled, OriginImport}

// Backup is one backup run. Status, times, sizes, key ID and the database and
// storage ids are plaintext columns (the history is listed and pruned by
// them); BackupDetails is sealed.
type Backup struct {
	ID         string    `json:"id"`          // the backup ID in the file's header, as lowercase hex or UUID text
	DatabaseID int64     `json:"database_id"` // 0 once the database is removed from PgSafe
	Status     Status    `json:"status"`
	Origin     string    `json:"origin"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"` // zero while running
	RawSize    int64     `json:"raw_size"`    // bytes pg_dump wrote
	StoredSize int64     `json:"stored_size"` // bytes of the encrypted file
	KeyID      string    `json:"key_id"`      // master key ID, hex
	BackupDetails
	Copies []BackupCopy `json:"copies"` // one per storage written to
}

// BackupDetails is the sealed part of a backup record.
type BackupDetails struct {
	DatabaseName string `json:"database_name"` // as it was named at the time
	Error        string `json:"error,omitempty"`
	// Manifest is the backup package's manifest. It is sealed in a row of
	// its own (schemaV4), read by Backup and by Backups only with
	// BackupFilter.Manifests: with many tables it is large.
	Manifest json.RawMessage `json:"manifest,omitempty"`
	// GlobalsMissing is the manifest's reason the server's roles were not
	// saved with the backup ("": they were), which the history shows; the
	// store takes it from the manifest when it records one.
	GlobalsMissing string `json:"globals_missing,omitempty"`
	// File is where a backup imported from a file is read from (it is in
	// no storage).
	File string `json:"file,omitempty"`
}

// CopyStatus is the state of a backup's copy on one storage.
type CopyStatus string

// Copy statuses.
const (
	CopyWriting CopyStatus = "writing"
	CopyWritten CopyStatus = "written"
	CopyFailed  CopyStatus = "failed"
	CopyDeleted CopyStatus = "deleted" // pruned by retention
)

var copyStatuses = []CopyStatus{CopyWriting, CopyWritten, CopyFailed, CopyDeleted}

// BackupCopy is a backup's result on one storage. Object and Error are sealed.
type BackupCopy struct {
	StorageID int64      `json:"storage_id"`
	Status    CopyStatus `json:"status"`
	Size      int64      `json:"size"`
	UpdatedAt time.Time  `json:"updated_at"`
	Object    string     `json:"object"` // object name or path on the storage
	Error     string     `json:"error,omitempty"`
	// Kept says why retention could not delete this written copy: the
	// storage refused ("kept: the storage refuses deletes", "kept until
	// DATE: the storage's lock"). Empty otherwise.
	Kept string `json:"kept,omitempty"`
}

type copyDetails struct {
	Object string `json:"object"`
	Error  string `json:"error,omitempty"`
	Kept   string `json:"kept,omitempty"`
}

// BackupFilter narrows Backups; zero fields match everything.
type BackupFilter struct {
	ID         string // one backup
	DatabaseID int64
	Status     Status
	Limit      int // newest first; 0: all
	// Manifests also reads each backup's manifest (else Manifest is nil):
	// only for what uses it, since a manifest lists every table.
	Manifests bool
	// IncludeDamaged lists a record modified outside PgSafe (a
	// *DamagedRowError, or a sealed record that does not open) as
	// StatusDamaged instead of failing the whole list. For showing the
	// history only: never act on such an entry.
	IncludeDamaged bool
}

// NewBackupID returns a fresh random backup ID (UUIDv4 bytes) and its text form.
func NewBackupID() ([16]byte, string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return b, "", fmt.Errorf("backup ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b, hex.EncodeToString(b[:]), nil
}

func validateBackup(b *Backup) error {
	if b.ID == "" || len(b.ID) > 64 || strings.Trim(b.ID, "0123456789abcdef-") != "" {
		return invalid("id", "%q is not a backup ID (lowercase hex)", b.ID)
	}
	if !slices.Contains(statuses, b.Status) {
		return invalid("status", "%q is not a status", b.Status)
	}
	if !slices.Contains(origins, b.Origin) {
		return invalid("origin", "%q is not an origin (%s)", b.Origin, strings.Join(origins, ", "))
	}
	if b.StartedAt.IsZero() {
		return invalid("started_at", "the start time is required")
	}
	if _, err := keys.ParseKeyID(b.KeyID); err != nil {
		return invalid("key_id", "%v", err)
	}
	if b.RawSize < 0 || b.StoredSize < 0 {
		return invalid("size", "sizes must not be negative")
	}
	if len(b.Manifest) > 0 && !json.Valid(b.Manifest) {
		return invalid("manifest", "not valid JSON")
	}
	return nil
}

// CreateBackup records a new backup (usually running). Copies are recorded
// with SetBackupCopy.
func (s *Store) CreateBackup(ctx context.Context, b Backup) error {
	if err := validateBackup(&b); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		blob, err := s.sealDetails(b)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO backups(id, database_id, status, origin, started_at, finished_at, raw_size, stored_size, key_id, sealed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, nullID(b.DatabaseID), string(b.Status), b.Origin, b.StartedAt.UnixMilli(), nullTime(b.FinishedAt),
			b.RawSize, b.StoredSize, b.KeyID, blob)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
			return &ConflictError{Msg: fmt.Sprintf("backup %s: already recorded, or its database does not exist", b.ID)}
		}
		if err != nil {
			return s.wrap("record backup", err)
		}
		if err := s.stampRows(ctx, tx, "backups", "id = ?", b.ID); err != nil {
			return err
		}
		if len(b.Manifest) > 0 {
			return s.setManifest(ctx, tx, b.ID, b.Manifest)
		}
		return nil
	})
}

// sealDetails seals b's details for its row: all but the manifest, which
// has a row of its own (setManifest), and of it GlobalsMissing.
func (s *Store) sealDetails(b Backup) ([]byte, error) {
	d := b.BackupDetails
	if len(d.Manifest) > 0 {
		d.GlobalsMissing = globalsMissing(d.Manifest)
	}
	d.Manifest = nil
	return s.sealRow("backups", b.ID, d)
}

// UpdateBackup records a backup's progress or result: status, finish time,
// sizes and details. Its database, origin, start time and key stay as created.
func (s *Store) UpdateBackup(ctx context.Context, b Backup) error {
	if err := validateBackup(&b); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return s.updateBackup(ctx, tx, b) })
}

// FinishBackup is UpdateBackup, SetBackupCopy of each of copies and the
// setting changes also (the backup's audit witness) in one transaction: the
// end of a backup is one commit (and one move of the anchor) rather than one
// per storage and setting. Nothing is written unless all is.
func (s *Store) FinishBackup(ctx context.Context, b Backup, copies []BackupCopy, also ...SettingChange) error {
	if err := validateBackup(&b); err != nil {
		return err
	}
	for i := range copies {
		if err := checkCopy(&copies[i]); err != nil {
			return err
		}
	}
	for _, c := range also {
		if err := validSettingKey(c.Key); err != nil {
			return err
		}
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.updateBackup(ctx, tx, b); err != nil {
			return err
		}
		for _, c := range copies {
			if err := s.setBackupCopy(ctx, tx, b.ID, c); err != nil {
				return err
			}
		}
		for _, c := range also {
			if _, err := s.updateSetting(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) updateBackup(ctx context.Context, tx *sql.Tx, b Backup) error {
	blob, err := s.sealDetails(b)
	if err != nil {
		return err
	}
	n, err := s.updateRows(ctx, tx, "backups", "id = ?", []any{b.ID}, `status = ?, finished_at = ?, raw_size = ?, stored_size = ?, sealed = ?`,
		string(b.Status), nullTime(b.FinishedAt), b.RawSize, b.StoredSize, blob)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFoundf("no backup %s", b.ID)
	}
	if len(b.Manifest) > 0 {
		return s.setManifest(ctx, tx, b.ID, b.Manifest)
	}
	return nil
}

// SetBackupCopy records (or replaces) backup id's result on c.StorageID.
func (s *Store) SetBackupCopy(ctx context.Context, backupID string, c BackupCopy) error {
	if err := checkCopy(&c); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return s.setBackupCopy(ctx, tx, backupID, c) })
}

// checkCopy refuses an unknown status and dates an undated copy.
func checkCopy(c *BackupCopy) error {
	if !slices.Contains(copyStatuses, c.Status) {
		return invalid("status", "%q is not a copy status", c.Status)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	return nil
}

func (s *Store) setBackupCopy(ctx context.Context, tx *sql.Tx, backupID string, c BackupCopy) error {
	blob, err := s.sealRow("backup_copies", copyRow(backupID, c.StorageID), copyDetails{Object: c.Object, Error: c.Error, Kept: c.Kept})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO backup_copies(backup_id, storage_id, status, size, updated_at, sealed) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(backup_id, storage_id) DO UPDATE SET status = excluded.status, size = excluded.size,
		  updated_at = excluded.updated_at, sealed = excluded.sealed`,
		backupID, c.StorageID, string(c.Status), c.Size, c.UpdatedAt.UnixMilli(), blob)
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
		return notFoundf("backup %s or storage %d", backupID, c.StorageID)
	}
	if err != nil {
		return s.wrap("record backup copy", err)
	}
	return s.stampRows(ctx, tx, "backup_copies", "backup_id = ? AND storage_id = ?", backupID, c.StorageID)
}

// DeleteBackup removes backup id's record and its copies' records (not the
// stored files). A record that was modified outside PgSafe may be deleted:
// that is the way out of a *DamagedRowError.
func (s *Store) DeleteBackup(ctx context.Context, id string) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		// What the foreign keys' ON DELETE would do, unbinding or binding
		// again each row (integrity.go).
		if _, err := s.deleteRows(ctx, tx, "backup_copies", "backup_id = ?", id); err != nil {
			return err
		}
		if _, err := s.deleteRows(ctx, tx, "backup_manifests", "backup_id = ?", id); err != nil {
			return err
		}
		if _, err := s.updateRows(ctx, tx, "restores", "backup_id = ?", []any{id}, "backup_id = NULL"); err != nil {
			return err
		}
		n, err := s.deleteRows(ctx, tx, "backups", "id = ?", id)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundf("no backup %s", id)
		}
		return nil
	})
}

// Backup returns backup id with its copies and manifest.
func (s *Store) Backup(ctx context.Context, id string) (Backup, error) {
	var out []Backup
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.backups(ctx, tx, false, true, "WHERE id = ?", id)
		return err
	})
	if err != nil {
		return Backup{}, err
	}
	if len(out) == 0 {
		return Backup{}, notFoundf("no backup %s", id)
	}
	return out[0], nil
}

// Backups lists backups, newest first.
func (s *Store) Backups(ctx context.Context, f BackupFilter) ([]Backup, error) {
	var (
		where []string
		args  []any
	)
	if f.ID != "" {
		where, args = append(where, "id = ?"), append(args, f.ID)
	}
	if f.DatabaseID != 0 {
		where, args = append(where, "database_id = ?"), append(args, f.DatabaseID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var out []Backup
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.backups(ctx, tx, f.IncludeDamaged, f.Manifests, q, args...)
		return err
	})
	return out, err
}

// backups reads backup records, with their manifests when manifests is set;
// with damaged, a record that fails its checks is listed as StatusDamaged
// rather than failing the list.
func (s *Store) backups(ctx context.Context, q querier, damaged, manifests bool, where string, args ...any) ([]Backup, error) {
	rs, err := q.QueryContext(ctx, `SELECT id, database_id, status, origin, started_at, finished_at, raw_size, stored_size, key_id, sealed`+bindingCols("backups")+` FROM backups `+where, args...)
	if err != nil {
		return nil, s.wrap("read backups", err)
	}
	defer rs.Close()
	var out []Backup
	for rs.Next() {
		var (
			b              Backup
			dbID, finished sql.NullInt64
			raw, stored    sql.NullInt64
			status         string
			started        int64
			blob           []byte
			bd             binding
		)
		if err := rs.Scan(append([]any{&b.ID, &dbID, &status, &b.Origin, &started, &finished, &raw, &stored, &b.KeyID, &blob}, bd.dest()...)...); err != nil {
			return nil, s.wrap("read backups", err)
		}
		err := s.openRow("backups", b.ID, blob, &b.BackupDetails, false)
		if err == nil {
			err = s.checkBinding("backups", &bd)
		}
		if err != nil {
			if !damaged || !isDamage(err) {
				return nil, err
			}
			out = append(out, damagedBackup(b.ID, err))
			continue
		}
		b.DatabaseID, b.Status, b.StartedAt, b.FinishedAt = dbID.Int64, Status(status), fromMillis(started), timeOf(finished)
		b.RawSize, b.StoredSize = raw.Int64, stored.Int64
		out = append(out, b)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("read backups", err)
	}
	rs.Close()
	for i := range out {
		if out[i].Status == StatusDamaged {
			continue
		}
		if out[i].Copies, err = s.backupCopies(ctx, q, out[i].ID); err == nil && manifests && len(out[i].Manifest) == 0 {
			out[i].Manifest, err = s.manifest(ctx, q, out[i].ID)
		}
		if err != nil {
			if !damaged || !isDamage(err) {
				return nil, err
			}
			out[i] = damagedBackup(out[i].ID, err)
		}
	}
	return out, nil
}

func (s *Store) backupCopies(ctx context.Context, q querier, backupID string) ([]BackupCopy, error) {
	rs, err := q.QueryContext(ctx, `SELECT storage_id, status, size, updated_at, sealed`+bindingCols("backup_copies")+` FROM backup_copies WHERE backup_id = ? ORDER BY storage_id`, backupID)
	if err != nil {
		return nil, s.wrap("read backup copies", err)
	}
	defer rs.Close()
	var out []BackupCopy
	for rs.Next() {
		var (
			c      BackupCopy
			status string
			size   sql.NullInt64
			upd    int64
			blob   []byte
			d      copyDetails
			bd     binding
		)
		if err := rs.Scan(append([]any{&c.StorageID, &status, &size, &upd, &blob}, bd.dest()...)...); err != nil {
			return nil, s.wrap("read backup copies", err)
		}
		if err := s.openRow("backup_copies", copyRow(backupID, c.StorageID), blob, &d, false); err != nil {
			return nil, err
		}
		if err := s.checkBinding("backup_copies", &bd); err != nil {
			return nil, err
		}
		c.Status, c.Size, c.UpdatedAt, c.Object, c.Error, c.Kept = CopyStatus(status), size.Int64, fromMillis(upd), d.Object, d.Error, d.Kept
		out = append(out, c)
	}
	return out, rs.Err()
}

// isDamage: err says a row was modified outside PgSafe or its sealed record
// does not open.
func isDamage(err error) bool { return errors.Is(err, ErrModified) || errors.Is(err, seal.ErrOpen) }

func damagedBackup(id string, err error) Backup {
	return Backup{ID: id, Status: StatusDamaged, BackupDetails: BackupDetails{Error: err.Error()}}
}

func copyRow(backupID string, storageID int64) string { return backupID + "/" + rowID(storageID) }

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
