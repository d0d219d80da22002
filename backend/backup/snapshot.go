package backup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// TableCount is one table of the snapshot and, if counted, its rows.
type TableCount struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	// Counted is false when the rows were not counted: the database's
	// row-count setting left the table out, or the dump held no data of it
	// that could be counted.
	Counted bool `json:"counted"`
}

// snapshot is a REPEATABLE READ, READ ONLY transaction whose snapshot is
// exported for pg_dump. It must stay open until pg_dump has imported it.
type snapshot struct {
	conn          *pgx.Conn
	tx            pgx.Tx
	ID            string // pg_export_snapshot()
	ServerVersion string // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"
	ServerMajor   int
	Database      string
	// PID is the snapshot session's backend; Postmaster the server's start
	// time. After a failure they tell a restart from a session ended by
	// someone (see explainLost).
	PID        uint32
	Postmaster time.Time
	// DataSize is the size of the tables on disk (heap and TOAST, no
	// indexes), from the planner's statistics (dataSizeSQL): close to what
	// the dump will hold, so progress can show an ETA.
	DataSize int64
}

// openSnapshot connects with the read-only credentials and exports a snapshot.
func openSnapshot(ctx context.Context, c pgtools.Conn) (*snapshot, error) {
	cfg, err := c.PgxConfig()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, pg.ExplainConnect(c, err)
	}
	s := &snapshot{conn: conn}
	s.tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("begin a snapshot transaction on %s: %w", c, err)
	}
	var num int
	err = s.tx.QueryRow(ctx, `SELECT pg_export_snapshot(), current_setting('server_version'),
		current_setting('server_version_num')::int, current_database(), pg_backend_pid(), pg_postmaster_start_time()`).
		Scan(&s.ID, &s.ServerVersion, &num, &s.Database, &s.PID, &s.Postmaster)
	if err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("export a snapshot on %s: %w", c, err)
	}
	s.ServerMajor = num / 10000
	// An estimate only: a failure here must not fail the backup, nor abort
	// the snapshot's transaction (hence the savepoint).
	if sp, err := s.tx.Begin(ctx); err == nil {
		// pg_relation_size locks a table; a table locked by another session
		// must not hold the backup up here (pg_dump says why).
		_, err := sp.Exec(ctx, "SET LOCAL lock_timeout = 2000")
		if err == nil {
			err = sp.QueryRow(ctx, dataSizeSQL).Scan(&s.DataSize)
		}
		if err != nil {
			s.DataSize = 0
			sp.Rollback(ctx)
		} else {
			sp.Commit(ctx)
		}
	}
	return s, nil
}

// dataSizeSQL estimates the size of the tables' heap and TOAST outside the
// system schemas from the planner's statistics (pg_class.relpages, which
// VACUUM and ANALYZE keep): no lock and no file access per table. Only a
// relation never vacuumed or analyzed (reltuples -1, PostgreSQL 14+) is
// measured with pg_relation_size. pg_table_size of every table took 4.2 s
// on 10,000 tables (docs/BENCHMARKS.md) and counted free-space and
// visibility maps, ~32 kB a table, that no dump holds.
const dataSizeSQL = `
WITH rels AS (
	SELECT c.oid, c.relpages, c.reltuples, c.reltoastrelid
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm')
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), sized AS (
	SELECT oid, relpages, reltuples FROM rels
	UNION ALL
	SELECT t.oid, t.relpages, t.reltuples FROM rels JOIN pg_class t ON t.oid = rels.reltoastrelid
)
SELECT coalesce(sum(CASE WHEN reltuples < 0 THEN pg_relation_size(oid)
	ELSE relpages::bigint * current_setting('block_size')::bigint END), 0)::bigint
FROM sized`

// tablesSQL lists the tables pg_dump dumps the data of (ordinary and
// partitioned leaf tables, materialized views have none; partitioned parents
// hold no rows of their own), outside the system schemas and extensions.
const tablesSQL = `
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`

// tables lists the snapshot's tables, none counted yet: their rows are
// counted from pg_dump's stream (countRows). The list comes from the
// snapshot, not the dump, so that a table the dump holds no data of is
// noticed.
func (s *snapshot) tables(ctx context.Context) ([]TableCount, error) {
	rows, err := s.tx.Query(ctx, tablesSQL)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableCount, error) {
		var t TableCount
		err := r.Scan(&t.Schema, &t.Name)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", explainPgErr(err))
	}
	return tables, nil
}

// explainPgErr adds advice to errors a read-only role meets.
func explainPgErr(err error) error {
	if strings.Contains(err.Error(), "lock timeout") {
		return fmt.Errorf("%w (another session holds a lock on the table: see pg_locks; the backup stopped instead of waiting)", err)
	}
	if strings.Contains(err.Error(), "permission denied") {
		return fmt.Errorf("%w (the backup role needs SELECT on every table: run the database's read-only check for the SQL)", err)
	}
	return err
}

func (s *snapshot) close(ctx context.Context) {
	if s.tx != nil {
		s.tx.Rollback(context.WithoutCancel(ctx))
	}
	s.conn.Close(context.WithoutCancel(ctx))
}
