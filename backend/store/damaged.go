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
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// DamagedError: the settings database is empty or damaged. Open moved it,
// and the files bound to it, aside (KeptAs) rather than start over in its
// place without a word or fail on every command: the next Open starts with
// empty settings. Backups already made are untouched in their storages, and
// the master key is untouched in the keychain, so adding a storage again
// lists its backups and restores them.
type DamagedError struct {
	Path   string // the settings database
	Reason string // what is wrong with it
	KeptAs string // the folder the damaged files were moved to; "" if they could not be
	// MoveErr says why they could not be moved aside.
	MoveErr error
}

func (e *DamagedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the settings database %s %s", e.Path, e.Reason)
	if e.KeptAs != "" {
		fmt.Fprintf(&b, ". It was moved to %s, and PgSafe starts with empty settings from now on", e.KeptAs)
	} else {
		fmt.Fprintf(&b, ". It could not be moved aside (%v): move it away yourself to start with empty settings", e.MoveErr)
	}
	b.WriteString(". Backups already made are safe in their storages, and the master key is still in the keychain: add your storages again to see their backups and restore them")
	return b.String()
}

// damagedPrefix names the folders damaged settings are moved to.
const damagedPrefix = "damaged-"

// checkDamaged looks at an existing settings database before Open touches
// it: a 0-byte file where PgSafe has written before (its WAL, its anchor or
// the audit checkpoint are beside it), or a file whose pages do not pass
// SQLite's quick_check, is set aside. A file of another program is left to
// open's own refusal.
func checkDamaged(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil // missing (a first start) or not a file: open says
	}
	if fi.Size() == 0 {
		if usedBefore(path) {
			return setAside(path, "is empty (0 bytes) although PgSafe has used it before: it was cut or replaced")
		}
		return nil // created by an Open that stopped before its first write
	}
	problem, err := quickCheck(ctx, path)
	if err != nil {
		if isCorrupt(err) && usedBefore(path) {
			return setAside(path, fmt.Sprintf("is damaged (%v)", err))
		}
		return nil // open explains (another program's file, a locked file…)
	}
	if problem != "" {
		return setAside(path, "is damaged (SQLite's check found: "+problem+")")
	}
	return nil
}

// quickCheck runs PRAGMA quick_check through a read-only connection and
// returns its first problem ("" when the file is sound).
func quickCheck(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", path+"?mode=ro&_pragma=query_only(1)&"+fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()))
	if err != nil {
		return "", err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var app int32
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return "", err
	}
	if app != applicationID {
		return "", nil // not ours (or new): open decides
	}
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res); err != nil {
		return "", err
	}
	if res == "ok" {
		return "", nil
	}
	return res, nil
}

// usedBefore reports whether files PgSafe writes beside a settings database
// it has used are there.
func usedBefore(path string) bool {
	for _, p := range []string{path + "-wal", path + AnchorSuffix, filepath.Join(filepath.Dir(path), "audit.checkpoint")} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// isCorrupt reports SQLite's "malformed" and "not a database" errors.
func isCorrupt(err error) bool {
	code := sqliteCode(err)
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}

// damagedOr turns an error open met while reading a database it had
// checked into a DamagedError (setting the file aside), when the error says
// the file is damaged.
func damagedOr(path string, err error) error {
	if err == nil || !isCorrupt(err) || !usedBefore(path) {
		return err
	}
	return setAside(path, fmt.Sprintf("is damaged (%v)", err))
}

// setAside moves the database, its WAL and shared-memory files, its anchor
// and the audit checkpoint (which describe the damaged copy, and would call
// the next, empty, settings tampered with) into a new folder beside it.
func setAside(path, reason string) error {
	e := &DamagedError{Path: path, Reason: reason}
	home := filepath.Dir(path)
	dir := filepath.Join(home, damagedPrefix+time.Now().UTC().Format("20060102T150405.000Z"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		e.MoveErr = err
		return e
	}
	files, _ := filepath.Glob(path + "*")
	cps, _ := filepath.Glob(filepath.Join(home, "audit.checkpoint*"))
	for _, p := range append(files, cps...) {
		if err := os.Rename(p, filepath.Join(dir, filepath.Base(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.MoveErr = err
			return e
		}
	}
	e.KeptAs = dir
	return e
}
