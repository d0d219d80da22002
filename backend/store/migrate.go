package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// applicationID marks the file as PgSafe's in the SQLite header ("PgSf").
const applicationID int32 = 0x50675366

// A migration moves the schema from version-1 to version. It runs in one
// write transaction together with the user_version bump, so a database is
// always at a recorded version. Migrations that change a table's sealed
// record layout re-seal its rows with the new record version in the same
// transaction.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, s *Store, tx *sql.Tx) error
}

// migrations, in order. Never edit a released one: append.
var migrations = []migration{
	{1, "initial schema", execSQL(schemaV1)},
	{2, "health checks", execSQL(schemaV2)},
	{3, "row MACs and sealed storage lists", bindRows},
	{4, "manifests in their own table", moveManifests},
}

// SchemaVersion is the newest schema this build knows.
var SchemaVersion = len(migrations)

func execSQL(stmts string) func(context.Context, *Store, *sql.Tx) error {
	return func(ctx context.Context, _ *Store, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, stmts)
		return err
	}
}

// migrate applies every pending migration, each in its own transaction. It
// rereads the version inside each transaction, so two processes starting at
// once do not apply a migration twice.
func (s *Store) migrate(ctx context.Context) error {
	upgraded := false
	defer func() {
		if upgraded {
			s.compact(ctx)
		}
	}()
	for _, m := range migrations {
		applied := false
		err := s.writeTx(ctx, m.version > 1, func(tx *sql.Tx) error {
			var v int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
				return err
			}
			if v > SchemaVersion {
				return &NewerSchemaError{Path: s.path, Version: v, Known: SchemaVersion}
			}
			if v >= m.version {
				return nil
			}
			if v != m.version-1 {
				return fmt.Errorf("schema version %d, expected %d", v, m.version-1)
			}
			if err := m.up(ctx, s, tx); err != nil {
				return err
			}
			applied = true
			if m.version == 1 {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			return err
		})
		if err != nil {
			if _, ok := err.(*NewerSchemaError); ok {
				return err
			}
			return fmt.Errorf("settings database %s: migration %d (%s): %w", s.path, m.version, m.name, err)
		}
		if applied {
			slog.Info("settings database migrated", "path", s.path, "version", m.version, "migration", m.name)
			upgraded = upgraded || m.version > 1
		}
	}
	return nil
}

// compact gives back the free pages of a file an upgrade left mostly empty
// (migration 4 moved every manifest out of the history's rows, compressed:
// a file of 20 MB then holds under 1 MB). VACUUM changes no row, so the
// rows' digest and the anchor stay as they are. It needs the file to
// itself: when another process has it open, it is left for later.
func (s *Store) compact(ctx context.Context) {
	var pages, free int64
	if s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages) != nil || s.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free) != nil {
		return
	}
	if free < 256 || free*2 < pages { // under 1 MiB or half the file: not worth a rewrite
		return
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM"); err != nil {
		slog.Warn("settings database: could not compact it after the upgrade", "path", s.path, "err", err)
		return
	}
	slog.Info("settings database compacted after the upgrade", "path", s.path, "freed_pages", free)
}
