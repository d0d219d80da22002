package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

func newKey(t testing.TB) *keys.MasterKey {
	t.Helper()
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// openTemp opens a fresh store in a private temporary directory.
func openTemp(t testing.TB) (*Store, *keys.MasterKey) {
	t.Helper()
	mk := newKey(t)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), mk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, mk
}

func TestOpenFromEmptyAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "settings")
	path := filepath.Join(dir, FileName)
	mk := newKey(t)
	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path || s.KeyID() != mk.ID() {
		t.Fatalf("Path %q KeyID %s", s.Path(), s.KeyID())
	}
	var v int
	s.DB().QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion {
		t.Fatalf("user_version = %d, want %d", v, SchemaVersion)
	}
	pragmas := map[string]string{
		"journal_mode": "wal", "secure_delete": "1", "foreign_keys": "1",
		"synchronous": "2", "busy_timeout": "15000",
	}
	for p, want := range pragmas {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + p).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", p, got, err, want)
		}
	}
	// The audit table exists with the agreed columns.
	if _, err := s.DB().Exec(`INSERT INTO audit_log(seq, at, action, outcome, details, mac) VALUES (1, 1, 'app.start', 'ok', x'00', x'00')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO audit_log(seq, at, action, outcome, details, mac) VALUES (2, 'x', 'a', 'ok', x'00', x'00')`); err == nil {
		t.Fatal("audit_log is not STRICT: a text `at` was accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v (%v), want %o", p, fi.Mode().Perm(), err, want)
		}
	}

	// Re-open: nothing to migrate, data still there.
	s, err = Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	s.DB().QueryRow("SELECT count(*) FROM audit_log").Scan(&n)
	if n != 1 {
		t.Fatalf("audit rows after reopen = %d, want 1", n)
	}
}

func TestWalAndShmAre0600(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO meta(key, value) VALUES ('probe', 'x')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(s.Path() + suffix)
		if err != nil {
			t.Fatalf("%s while open: %v", suffix, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", suffix, fi.Mode().Perm())
		}
	}
}

func TestOpenWithAnotherMasterKeyFails(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	path := s.Path()
	s.Close()
	other := newKey(t)
	before, _ := os.ReadFile(path)
	_, err := Open(ctx, path, other)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) || len(before) == 0 {
		t.Error("a refused Open changed the file")
	}
	var wk *WrongKeyError
	if !errors.As(err, &wk) || wk.DB != mk.ID() || wk.Have != other.ID() {
		t.Fatalf("Open with another key: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"belongs to master key " + mk.ID().String(), "this machine has key " + other.ID().String(), "pgsafe key import"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	// The right key still opens it.
	s, err = Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	path := s.Path()
	if _, err := s.DB().Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(ctx, path, mk)
	var ne *NewerSchemaError
	if !errors.As(err, &ne) || ne.Version != 999 || ne.Known != SchemaVersion || !strings.Contains(err.Error(), "newer PgSafe") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mk := newKey(t)

	// Another program's SQLite database.
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, other, mk); err == nil || !strings.Contains(err.Error(), "not a PgSafe settings database") {
		t.Fatalf("Open of a foreign database: %v", err)
	}
	var (
		n    int
		mode string
	)
	db, _ = sql.Open("sqlite", other)
	db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n)
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.Close()
	if n != 1 || mode != "delete" {
		t.Fatalf("foreign database changed: %d schema objects, journal mode %s", n, mode)
	}

	// Not a database at all.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 100)), 0o600)
	if _, err := Open(ctx, junk, mk); err == nil || !strings.Contains(err.Error(), junk) || !strings.Contains(err.Error(), "not a PgSafe settings database") {
		t.Fatalf("Open of a junk file: %v", err)
	}

	// A shared directory is refused; a private one that is too wide is tightened.
	shared := filepath.Join(dir, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777|os.ModeSticky)
	if _, err := Open(ctx, filepath.Join(shared, FileName), mk); err == nil || !strings.Contains(err.Error(), "shared directory") {
		t.Fatalf("Open in a sticky directory: %v", err)
	}
	wide := filepath.Join(dir, "wide")
	os.Mkdir(wide, 0o755)
	os.Chmod(wide, 0o755)
	s, err := Open(ctx, filepath.Join(wide, FileName), mk)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(wide); fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode after Open = %o, want 700", fi.Mode().Perm())
	}
}

func TestMigrationsRecordedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	path := s.Path()
	// Running migrate again is a no-op at the current version.
	if err := s.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Two processes' worth of stores opening at once both succeed.
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := Open(ctx, path, mk)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationsInOrderAndAtomic adds migrations as a later PgSafe would: a
// good one is applied and recorded on the next Open, a failing one leaves
// neither its changes nor a version bump behind.
func TestMigrationsInOrderAndAtomic(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	path := s.Path()
	s.Close()
	saved, savedVersion := migrations, SchemaVersion
	t.Cleanup(func() { migrations, SchemaVersion = saved, savedVersion })

	var order []int
	step := func(v int, stmt string) migration {
		return migration{v, fmt.Sprintf("test %d", v), func(ctx context.Context, s *Store, tx *sql.Tx) error {
			order = append(order, v)
			_, err := tx.ExecContext(ctx, stmt)
			return err
		}}
	}
	migrations = append(slices.Clone(saved),
		step(len(saved)+1, "CREATE TABLE extra_a (x INTEGER) STRICT"),
		step(len(saved)+2, "CREATE TABLE extra_b (x INTEGER) STRICT"))
	SchemaVersion = len(migrations)
	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	s.DB().QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion || !slices.Equal(order, []int{len(saved) + 1, len(saved) + 2}) {
		t.Fatalf("version %d, order %v", v, order)
	}
	s.Close()

	migrations = append(migrations, step(len(migrations)+1, "CREATE TABLE extra_c (x INTEGER); SELECT no_such_function()"))
	SchemaVersion = len(migrations)
	_, err = Open(ctx, path, mk)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d", SchemaVersion)) {
		t.Fatalf("failing migration: %v", err)
	}
	db, _ := sql.Open("sqlite", path)
	defer db.Close()
	var tables int
	db.QueryRow("PRAGMA user_version").Scan(&v)
	db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'extra_c'").Scan(&tables)
	if v != SchemaVersion-1 || tables != 0 {
		t.Fatalf("after a failed migration: version %d, extra_c tables %d", v, tables)
	}
}
