package store

import (
	"context"
	"database/sql"
	"slices"
)

// forgettable are the tables whose damaged rows ForgetDamaged removes: history
// and bookkeeping, which PgSafe can do without. A damaged database, storage,
// notifier, retention policy or setting is the user's configuration: it is
// removed and entered again with its own command. Order matters: restores
// before backups (a backup's removal re-binds the restores naming it), copies
// and manifests before backups.
var forgettable = []string{"health_checks", "restores", "backup_copies", "backup_manifests", "backups", "schedules"}

// damagedRow is one row that fails its MAC, with its rowid for removal.
type damagedRow struct {
	rowid int64
	err   DamagedRowError
}

func (s *Store) damagedRows(ctx context.Context, q querier, table string) ([]damagedRow, error) {
	rs, err := q.QueryContext(ctx, "SELECT rowid"+bindingCols(table)+" FROM "+table+" ORDER BY rowid")
	if err != nil {
		return nil, s.wrap("read "+table, err)
	}
	defer rs.Close()
	var out []damagedRow
	for rs.Next() {
		var (
			id int64
			b  binding
		)
		if err := rs.Scan(append([]any{&id}, b.dest()...)...); err != nil {
			return nil, s.wrap("read "+table, err)
		}
		if s.checkBinding(table, &b) != nil {
			out = append(out, damagedRow{id, DamagedRowError{Path: s.path, Table: table, Row: b.row}})
		}
	}
	return out, rs.Err()
}

// Damaged lists every row modified outside PgSafe: rows whose columns do not
// match their MAC, and databases whose database_storages links disagree with
// their sealed storage list. Sealed records that do not open are reported
// when read, not here.
func (s *Store) Damaged(ctx context.Context) ([]DamagedRowError, error) {
	var out []DamagedRowError
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		for _, t := range boundTables {
			rows, err := s.damagedRows(ctx, tx, t.name)
			if err != nil {
				return err
			}
			for _, r := range rows {
				out = append(out, r.err)
			}
		}
		dbs, err := databases.queryRows(ctx, s, tx, "ORDER BY id", nil, false, false)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			var dr *DamagedRowError
			if err := s.checkStorageIndex(ctx, tx, d.ID, d.Config.StorageIDs); err != nil {
				if !asDamaged(err, &dr) {
					return err
				}
				out = append(out, *dr)
			}
		}
		return nil
	})
	return out, err
}

// ForgetDamaged removes the damaged rows of the history and bookkeeping
// tables (health checks, verify/drill/restore runs, backup records, their
// copies and manifests, schedules) and returns them. Backup files in the storages are not
// touched: `backups --storage` still lists them. Damaged configuration rows
// are left for the user (Damaged lists them).
func (s *Store) ForgetDamaged(ctx context.Context) ([]DamagedRowError, error) {
	var out []DamagedRowError
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		out = nil
		for _, table := range forgettable {
			rows, err := s.damagedRows(ctx, tx, table)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if table == "backups" {
					if _, err := s.deleteRows(ctx, tx, "backup_copies", "backup_id = (SELECT id FROM backups WHERE rowid = ?)", r.rowid); err != nil {
						return err
					}
					if _, err := s.deleteRows(ctx, tx, "backup_manifests", "backup_id = (SELECT id FROM backups WHERE rowid = ?)", r.rowid); err != nil {
						return err
					}
					if _, err := s.updateRows(ctx, tx, "restores", "backup_id = (SELECT id FROM backups WHERE rowid = ?)", []any{r.rowid}, "backup_id = NULL"); err != nil {
						return err
					}
				}
				if _, err := s.deleteRows(ctx, tx, table, "rowid = ?", r.rowid); err != nil {
					return err
				}
				out = append(out, r.err)
			}
		}
		return nil
	})
	return out, err
}

// Forgettable reports whether ForgetDamaged removes damaged rows of table.
func Forgettable(table string) bool { return slices.Contains(forgettable, table) }

func asDamaged(err error, target **DamagedRowError) bool {
	d, ok := err.(*DamagedRowError)
	if ok {
		*target = d
	}
	return ok
}
