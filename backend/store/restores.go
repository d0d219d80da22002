package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// Kinds of restore runs.
const (
	RunVerify  = "verify"  // integrity check of a stored backup
	RunDrill   = "drill"   // restore into a scratch database and compare row counts
	RunRestore = "restore" // restore for real
)

var runKinds = []string{RunVerify, RunDrill, RunRestore}

// RestoreRecord is one verify, drill or restore run. Kind, the backup and
// database ids, status and times are plaintext; RestoreDetails is sealed.
type RestoreRecord struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	BackupID   string    `json:"backup_id"`   // "" for an imported file or once the backup record is gone
	DatabaseID int64     `json:"database_id"` // 0 when none
	Status     Status    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	RestoreDetails
}

// RestoreDetails is the sealed part of a run. Target describes where a drill
// or restore went (server and database name); write credentials are never
// part of it.
type RestoreDetails struct {
	Target    string          `json:"target,omitempty"`
	StorageID int64           `json:"storage_id,omitempty"` // the storage the backup was read from
	Problems  []string        `json:"problems,omitempty"`   // first problem found, row-count differences…
	Warnings  []string        `json:"warnings,omitempty"`   // pg_restore's warnings, summarised
	Error     string          `json:"error,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"` // anything else the run reports, as JSON
}

// RestoreFilter narrows Restores; zero fields match everything.
type RestoreFilter struct {
	Kind       string
	BackupID   string
	DatabaseID int64
	Limit      int // newest first; 0: all
	// IncludeDamaged lists a run modified outside PgSafe as StatusDamaged
	// (ID and Error only) instead of failing the list: for showing only.
	IncludeDamaged bool
}

func validateRestore(r *RestoreRecord) error {
	if !slices.Contains(runKinds, r.Kind) {
		return invalid("kind", "%q is not a run kind (%s)", r.Kind, strings.Join(runKinds, ", "))
	}
	if !slices.Contains(statuses, r.Status) {
		return invalid("status", "%q is not a status", r.Status)
	}
	if r.StartedAt.IsZero() {
		return invalid("started_at", "the start time is required")
	}
	if len(r.Data) > 0 && !json.Valid(r.Data) {
		return invalid("data", "not valid JSON")
	}
	return nil
}

// CreateRestore records a new run and returns its id.
func (s *Store) CreateRestore(ctx context.Context, r RestoreRecord) (int64, error) {
	if err := validateRestore(&r); err != nil {
		return 0, err
	}
	var id int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO restores(kind, backup_id, database_id, status, started_at, finished_at, sealed) VALUES (?, ?, ?, ?, ?, ?, x'')`,
			r.Kind, nullString(r.BackupID), nullID(r.DatabaseID), string(r.Status), r.StartedAt.UnixMilli(), nullTime(r.FinishedAt))
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
			return notFoundf("backup %q or database %d", r.BackupID, r.DatabaseID)
		}
		if err != nil {
			return s.wrap("record "+r.Kind, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return s.wrap("record "+r.Kind, err)
		}
		if err := s.sealRestore(ctx, tx, id, r.RestoreDetails); err != nil {
			return err
		}
		return s.stampRows(ctx, tx, "restores", "id = ?", id)
	})
	return id, err
}

// UpdateRestore records a run's result: status, finish time and details.
func (s *Store) UpdateRestore(ctx context.Context, r RestoreRecord) error {
	if err := validateRestore(&r); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		blob, err := s.sealRow("restores", rowID(r.ID), r.RestoreDetails)
		if err != nil {
			return err
		}
		n, err := s.updateRows(ctx, tx, "restores", "id = ?", []any{r.ID}, `status = ?, finished_at = ?, sealed = ?`,
			string(r.Status), nullTime(r.FinishedAt), blob)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundf("no %s run %d", r.Kind, r.ID)
		}
		return nil
	})
}

func (s *Store) sealRestore(ctx context.Context, tx *sql.Tx, id int64, d RestoreDetails) error {
	blob, err := s.sealRow("restores", rowID(id), d)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE restores SET sealed = ? WHERE id = ?", blob, id); err != nil {
		return s.wrap("record run", err)
	}
	return nil
}

// Restore returns run id.
func (s *Store) Restore(ctx context.Context, id int64) (RestoreRecord, error) {
	out, err := s.restores(ctx, false, "WHERE id = ?", id)
	if err != nil {
		return RestoreRecord{}, err
	}
	if len(out) == 0 {
		return RestoreRecord{}, notFoundf("no run %d", id)
	}
	return out[0], nil
}

// Restores lists runs, newest first.
func (s *Store) Restores(ctx context.Context, f RestoreFilter) ([]RestoreRecord, error) {
	var (
		where []string
		args  []any
	)
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.BackupID != "" {
		where, args = append(where, "backup_id = ?"), append(args, f.BackupID)
	}
	if f.DatabaseID != 0 {
		where, args = append(where, "database_id = ?"), append(args, f.DatabaseID)
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.restores(ctx, f.IncludeDamaged, q, args...)
}

func (s *Store) restores(ctx context.Context, damaged bool, where string, args ...any) ([]RestoreRecord, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT id, kind, backup_id, database_id, status, started_at, finished_at, sealed`+bindingCols("restores")+` FROM restores `+where, args...)
	if err != nil {
		return nil, s.wrap("read runs", err)
	}
	defer rs.Close()
	var out []RestoreRecord
	for rs.Next() {
		var (
			r              RestoreRecord
			backupID       sql.NullString
			dbID, finished sql.NullInt64
			status         string
			started        int64
			blob           []byte
			b              binding
		)
		if err := rs.Scan(append([]any{&r.ID, &r.Kind, &backupID, &dbID, &status, &started, &finished, &blob}, b.dest()...)...); err != nil {
			return nil, s.wrap("read runs", err)
		}
		err := s.openRow("restores", rowID(r.ID), blob, &r.RestoreDetails, false)
		if err == nil {
			err = s.checkBinding("restores", &b)
		}
		if err != nil {
			if !damaged || !isDamage(err) {
				return nil, err
			}
			out = append(out, RestoreRecord{ID: r.ID, Status: StatusDamaged, RestoreDetails: RestoreDetails{Error: err.Error()}})
			continue
		}
		r.BackupID, r.DatabaseID, r.Status = backupID.String, dbID.Int64, Status(status)
		r.StartedAt, r.FinishedAt = fromMillis(started), timeOf(finished)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("read runs", err)
	}
	return out, nil
}

func nullString(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }
