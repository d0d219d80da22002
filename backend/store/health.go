package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// schemaV2 adds the history of connectivity checks. The outcome, latency and
// time are plaintext (the history is listed by them); the error, which can
// name a host, is sealed.
const schemaV2 = `
CREATE TABLE health_checks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  database_id INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  latency_ms  INTEGER NOT NULL,
  sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX health_checks_database ON health_checks(database_id, at);
`

// HealthKeep is how many checks are kept per database; older ones are pruned.
const HealthKeep = 500

// HealthCheck is one connectivity check of a database.
type HealthCheck struct {
	ID         int64         `json:"id"`
	DatabaseID int64         `json:"database_id"`
	At         time.Time     `json:"at"`
	OK         bool          `json:"ok"`
	Latency    time.Duration `json:"latency"`
	HealthDetails
}

// HealthDetails is the sealed part of a check.
type HealthDetails struct {
	Error string `json:"error,omitempty"`
}

// AddHealthCheck records a check and prunes the database's history to
// HealthKeep entries.
func (s *Store) AddHealthCheck(ctx context.Context, h HealthCheck) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO health_checks(database_id, at, ok, latency_ms, sealed) VALUES (?, ?, ?, ?, x'')`,
			h.DatabaseID, h.At.UnixMilli(), boolInt(h.OK), h.Latency.Milliseconds())
		if err != nil {
			return s.wrap("record a health check", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return s.wrap("record a health check", err)
		}
		blob, err := s.sealRow("health_checks", rowID(id), h.HealthDetails)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE health_checks SET sealed = ? WHERE id = ?", blob, id); err != nil {
			return s.wrap("record a health check", err)
		}
		if err := s.stampRows(ctx, tx, "health_checks", "id = ?", id); err != nil {
			return err
		}
		_, err = s.deleteRows(ctx, tx, "health_checks", `database_id = ? AND id NOT IN
			(SELECT id FROM health_checks WHERE database_id = ? ORDER BY at DESC, id DESC LIMIT ?)`, h.DatabaseID, h.DatabaseID, HealthKeep)
		return err
	})
}

// HealthChecks lists a database's checks, newest first (limit 0: all kept).
func (s *Store) HealthChecks(ctx context.Context, databaseID int64, limit int) ([]HealthCheck, error) {
	q := `SELECT id, database_id, at, ok, latency_ms, sealed` + bindingCols("health_checks") + ` FROM health_checks WHERE database_id = ? ORDER BY at DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rs, err := s.db.QueryContext(ctx, q, databaseID)
	if err != nil {
		return nil, s.wrap("read health checks", err)
	}
	defer rs.Close()
	var out []HealthCheck
	for rs.Next() {
		var (
			h         HealthCheck
			at, lat   int64
			ok        int64
			sealedRow []byte
			b         binding
		)
		if err := rs.Scan(append([]any{&h.ID, &h.DatabaseID, &at, &ok, &lat, &sealedRow}, b.dest()...)...); err != nil {
			return nil, s.wrap("read health checks", err)
		}
		h.At, h.OK, h.Latency = time.UnixMilli(at).UTC(), ok != 0, time.Duration(lat)*time.Millisecond
		if err := s.openRow("health_checks", rowID(h.ID), sealedRow, &h.HealthDetails, false); err != nil {
			return nil, err
		}
		if err := s.checkBinding("health_checks", &b); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("read health checks", err)
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
