package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/seal"
)

// FileName is the settings database's name inside the settings directory.
const FileName = "pgsafe.db"

// BusyTimeout is how long a connection waits for another writer (this
// process's or another PgSafe process's, e.g. `pgsafe run` next to the app)
// before a write fails with "database is locked".
const BusyTimeout = 15 * time.Second

// DefaultPath returns the settings database's path in the settings directory,
// creating the directory (0700) if needed.
func DefaultPath() (string, error) {
	dir, err := paths.EnsureHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, FileName), nil
}

// Store is an open settings database. It is safe for concurrent use by several
// goroutines (the scheduler and the UI), and several processes may open the
// same file at once: every write transaction begins IMMEDIATE and waits up to
// BusyTimeout for the write lock.
type Store struct {
	db     *sql.DB
	path   string
	sealer *seal.Sealer
	keyID  keys.KeyID
	macKey []byte      // row MACs (integrity.go)
	anchor *anchorFile // the anchor beside the database (anchor.go)
	hooks  testHooks
	// accepting: opened by Accept, so writes before the re-anchoring (a
	// migration) do not refuse the database.
	accepting bool

	// wmu serialises this process's write transactions, so they queue on a
	// mutex instead of polling SQLite's busy handler. Other processes are kept
	// out by BEGIN IMMEDIATE and the busy timeout.
	wmu sync.Mutex
}

// Open opens (creating if missing) the settings database at path, runs any
// pending migrations and checks that the database belongs to mk. The file is
// created 0600 in a directory restricted to 0700 (created when missing,
// tightened when wider; a shared sticky directory such as /tmp is refused).
//
// An empty or damaged database PgSafe has used before is moved aside, and a
// *DamagedError says so (see checkDamaged).
func Open(ctx context.Context, path string, mk *keys.MasterKey) (*Store, error) {
	if err := checkDamaged(ctx, path); err != nil {
		return nil, err
	}
	s, err := open(ctx, path, mk, false)
	if err != nil {
		return nil, damagedOr(path, err)
	}
	return s, nil
}

// open is Open; with accept, a database modified outside PgSafe is accepted
// as it is (Accept) instead of refused.
func open(ctx context.Context, path string, mk *keys.MasterKey, accept bool) (*Store, error) {
	if mk == nil {
		return nil, errors.New("open settings database: no master key")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open settings database %s: the path must not contain '?' or '#'", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open settings database %s: %w", path, err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, err
	}
	sealer, err := seal.New(mk)
	if err != nil {
		return nil, fmt.Errorf("open settings database %s: %w", abs, err)
	}
	macKey, err := mk.Derive(keys.LabelStoreRowMAC, nil, nil, 32)
	if err != nil {
		return nil, fmt.Errorf("open settings database %s: %w", abs, err)
	}
	anchor, err := newAnchorFile(abs, mk)
	if err != nil {
		return nil, fmt.Errorf("open settings database %s: %w", abs, err)
	}
	s := &Store{path: abs, sealer: sealer, keyID: mk.ID(), macKey: macKey, anchor: anchor, accepting: accept}
	if err := s.probe(ctx); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open settings database %s: %w", abs, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(time.Minute)
	s.db = db
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if accept {
		err = s.acceptRows(ctx)
		s.accepting = false
	} else {
		err = s.CheckIntegrity(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dsn configures every connection of the pool. WAL lets readers (the UI) run
// while the scheduler writes; synchronous=FULL makes a commit durable before it
// returns, which the audit log's checkpoint outside the database depends on
// (with NORMAL a power cut could drop committed rows the checkpoint already
// counts); secure_delete overwrites deleted content; _txlock=immediate takes
// the write lock at BEGIN, so two writers never deadlock on a lock upgrade.
func dsn(path string) string {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=secure_delete(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=trusted_schema(0)",
		"_txlock=immediate",
	}
	return path + "?" + strings.Join(q, "&")
}

// prepareFile makes sure the database's directory is private and the file
// exists with mode 0600 before SQLite opens it (SQLite creates the -wal and
// -shm files with the database file's mode).
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create settings directory %s: %w", dir, err)
		}
	case err != nil:
		return fmt.Errorf("settings directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("settings directory %s is not a directory", dir)
	case fi.Mode()&fs.ModeSticky != 0:
		// A shared directory such as /tmp: never tighten it, refuse.
		return fmt.Errorf("settings directory %s is a shared directory (sticky bit set): the settings database must live in a private directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		// Tighten, as paths.EnsureHome does for the settings directory.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict settings directory %s to its owner (chmod 700 %s): %w", dir, dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open settings database %s: %w", path, err)
	}
	fi, err = f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("open settings database %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("settings database %s is not a regular file", path)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("restrict %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}

// probe looks at the file through a read-only connection before the pool's
// connections (which switch the file to WAL mode) touch it: a file of another
// program, from a newer PgSafe or bound to another master key is refused
// unchanged.
func (s *Store) probe(ctx context.Context) error {
	db, err := sql.Open("sqlite", s.path+"?_pragma=query_only(1)&"+fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()))
	if err != nil {
		return s.wrap("open", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := s.checkApplication(ctx, db); err != nil {
		return err
	}
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.wrap("read schema version", err)
	}
	if version > SchemaVersion {
		return &NewerSchemaError{Path: s.path, Version: version, Known: SchemaVersion}
	}
	if version >= 1 {
		if _, err := s.checkKey(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

// init migrates the database and binds it to the master key.
func (s *Store) init(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		ok, err := s.checkKey(ctx, tx)
		if err != nil || ok {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('key_id', ?), ('created_at', ?)",
			s.keyID.String(), fmt.Sprint(now()))
		return err
	})
}

// checkApplication refuses SQLite files that belong to another program.
func (s *Store) checkApplication(ctx context.Context, q querier) error {
	var app int32
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		if sqliteCode(err) == sqlite3.SQLITE_NOTADB {
			return fmt.Errorf("%s is not a PgSafe settings database (not an SQLite file, or damaged): choose another path or move it away", s.path)
		}
		return s.wrap("read file header", err)
	}
	if app == applicationID {
		return nil
	}
	if app != 0 {
		return fmt.Errorf("%s is not a PgSafe settings database (it belongs to another program, application id %#x)", s.path, uint32(app))
	}
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return s.wrap("read schema", err)
	}
	if n > 0 {
		return fmt.Errorf("%s is not a PgSafe settings database (it holds tables PgSafe did not create); choose another path or move it away", s.path)
	}
	return nil
}

// checkKey compares the master key recorded in the database with this
// store's. It reports whether one is recorded.
func (s *Store) checkKey(ctx context.Context, q querier) (bool, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key_id'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap("read master key ID", err)
	}
	id, err := keys.ParseKeyID(v)
	if err != nil {
		return false, fmt.Errorf("settings database %s: damaged master key ID: %w", s.path, err)
	}
	if id != s.keyID {
		return false, &WrongKeyError{Path: s.path, DB: id, Have: s.keyID}
	}
	return true, nil
}

// Close checkpoints the write-ahead log into the database file and closes it.
func (s *Store) Close() error {
	// Best effort: another process may hold the database open.
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close settings database %s: %w", s.path, err)
	}
	return nil
}

// DB is the underlying database, for the audit package, which owns the
// audit_log table. Write through WriteTx, not DB().Begin, so that writes of
// this process queue instead of polling.
func (s *Store) DB() *sql.DB { return s.db }

// Path is the database file's absolute path.
func (s *Store) Path() string { return s.path }

// KeyID is the ID of the master key this database belongs to.
func (s *Store) KeyID() keys.KeyID { return s.keyID }

// Sealer seals and opens records under the store's master key, for packages
// that keep sealed data in tables created here (the audit log).
func (s *Store) Sealer() *seal.Sealer { return s.sealer }

// WriteTx runs fn in a write transaction (BEGIN IMMEDIATE), committing when fn
// returns nil and rolling back otherwise. Write transactions of one Store run
// one at a time; another process's wait up to BusyTimeout. fn must use tx for
// its writes and must not call the Store's write methods (they would wait for
// this transaction forever).
//
// A write that changes bound rows (integrity.go) also moves the anchor file
// beside the database (anchor.go); a database that no longer matches its
// anchor refuses writes with a *ModifiedError.
func (s *Store) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeTx(ctx, true, fn)
}

// readTx runs fn in a read transaction: one consistent snapshot for
// several queries, without taking the write lock.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap("begin read", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func (s *Store) wrap(what string, err error) error {
	return fmt.Errorf("settings database %s: %s: %w", s.path, what, err)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// sqliteCode is the primary SQLite result code in err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// now is the store's clock: unix milliseconds, UTC.
func now() int64 { return time.Now().UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
