package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// RetentionPolicy says which backups of a database to keep; a backup is kept
// when any rule keeps it (backend/retention decides, the engine applies it). All of it is sealed.
type RetentionPolicy struct {
	KeepLast     int   `json:"keep_last"`      // the newest N; 0: rule off
	KeepDays     int   `json:"keep_days"`      // everything younger than D days; 0: rule off
	Hourly       int   `json:"hourly"`         // GFS: newest backup of each of the last N hours
	Daily        int   `json:"daily"`          // … days
	Weekly       int   `json:"weekly"`         // … weeks
	Monthly      int   `json:"monthly"`        // … months
	Yearly       int   `json:"yearly"`         // … years
	MaxSizeBytes int64 `json:"max_size_bytes"` // total size cap; 0: none
}

// Retention is a database's stored policy.
type Retention struct {
	DatabaseID int64     `json:"database_id"`
	UpdatedAt  time.Time `json:"updated_at"`
	RetentionPolicy
}

func validateRetention(p *RetentionPolicy) error {
	for name, v := range map[string]int{"keep_last": p.KeepLast, "keep_days": p.KeepDays, "hourly": p.Hourly,
		"daily": p.Daily, "weekly": p.Weekly, "monthly": p.Monthly, "yearly": p.Yearly} {
		if v < 0 {
			return invalid(name, "must not be negative")
		}
	}
	if p.MaxSizeBytes < 0 {
		return invalid("max_size_bytes", "must not be negative")
	}
	return nil
}

// SetRetention creates or replaces database id's retention policy and
// reports the changed fields.
func (s *Store) SetRetention(ctx context.Context, databaseID int64, p RetentionPolicy) (Changes, error) {
	if err := validateRetention(&p); err != nil {
		return nil, err
	}
	var changes Changes
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireDatabase(ctx, tx, databaseID); err != nil {
			return err
		}
		old, err := s.retention(ctx, tx, databaseID)
		switch {
		case errors.Is(err, ErrNotFound):
			changes = diffFields(RetentionPolicy{}, p)
		case err != nil:
			return err
		default:
			changes = diffFields(old.RetentionPolicy, p)
			if len(changes) == 0 {
				return nil
			}
		}
		blob, err := s.sealRow("retention_policies", rowID(databaseID), p)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO retention_policies(database_id, updated_at, sealed) VALUES (?, ?, ?)
			ON CONFLICT(database_id) DO UPDATE SET updated_at = excluded.updated_at, sealed = excluded.sealed`,
			databaseID, now(), blob)
		if err != nil {
			return s.wrap("set retention policy", err)
		}
		return s.stampRows(ctx, tx, "retention_policies", "database_id = ?", databaseID)
	})
	return changes, err
}

// ClearRetention removes database id's policy (keep everything); ErrNotFound
// if it had none.
func (s *Store) ClearRetention(ctx context.Context, databaseID int64) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		n, err := s.deleteRows(ctx, tx, "retention_policies", "database_id = ?", databaseID)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundf("database %d has no retention policy", databaseID)
		}
		return nil
	})
}

// Retention returns database id's policy, or an ErrNotFound error.
func (s *Store) Retention(ctx context.Context, databaseID int64) (Retention, error) {
	return s.retention(ctx, s.db, databaseID)
}

func (s *Store) retention(ctx context.Context, q querier, databaseID int64) (Retention, error) {
	var (
		r    = Retention{DatabaseID: databaseID}
		upd  int64
		blob []byte
		b    binding
	)
	err := q.QueryRowContext(ctx, "SELECT updated_at, sealed"+bindingCols("retention_policies")+" FROM retention_policies WHERE database_id = ?", databaseID).
		Scan(append([]any{&upd, &blob}, b.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFoundf("database %d has no retention policy", databaseID)
	}
	if err != nil {
		return r, s.wrap("read retention policy", err)
	}
	r.UpdatedAt = fromMillis(upd)
	if err := s.openRow("retention_policies", rowID(databaseID), blob, &r.RetentionPolicy, false); err != nil {
		return r, err
	}
	return r, s.checkBinding("retention_policies", &b)
}
