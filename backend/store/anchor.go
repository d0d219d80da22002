package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pgsafe/pgsafe/backend/internal/filelock"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// AnchorSuffix names the anchor file: the database's path with this suffix
// (pgsafe.db.anchor), in the same private directory.
const AnchorSuffix = ".anchor"

// anchorState is what the anchor file says: the last committed rows state
// and, while a write is between "anchor prepared" and "anchor finished", the
// state that write commits.
//
// A write transaction, holding SQLite's write lock:
//  1. checks that the database's current state is the anchor's committed or
//     pending state, and writes {committed: current, pending: new};
//  2. commits;
//  3. writes {committed: new} unless another writer moved the anchor on.
//
// A crash before 2 leaves the database at committed, after 2 at pending: both
// are accepted, and the next write or open finishes the anchor. Anything
// else (an older state, another digest) was changed outside PgSafe. Only a
// rollback of exactly the write that was in flight during a crash can pass,
// and only until the anchor is finished.
type anchorState struct {
	Committed rowsState
	Pending   *rowsState
}

// anchorFile is the anchor beside the database: JSON authenticated with a key
// derived from the master key, written atomically (temporary file, fsync,
// rename, directory fsync), read and written under an exclusive lock on
// <anchor>.lock, which every PgSafe process takes (the app, `pgsafe run`,
// CLI commands).
type anchorFile struct {
	path string
	key  []byte
}

func newAnchorFile(dbPath string, mk *keys.MasterKey) (*anchorFile, error) {
	key, err := mk.Derive(keys.LabelStoreAnchor, nil, nil, 32)
	if err != nil {
		return nil, err
	}
	return &anchorFile{path: dbPath + AnchorSuffix, key: key}, nil
}

type anchorJSON struct {
	Version   int    `json:"version"`
	Committed string `json:"committed"`         // "generation:digest hex"
	Pending   string `json:"pending,omitempty"` // the same, while a write is in flight
	Auth      string `json:"auth"`              // HMAC of the above, hex
}

func (a *anchorFile) auth(committed, pending string) []byte {
	h := hmac.New(sha256.New, a.key)
	h.Write([]byte("pgsafe/v1/store-anchor\x00" + strconv.Itoa(1) + "\x00" + committed + "\x00" + pending))
	return h.Sum(nil)
}

// load reads the anchor; nil when there is none yet.
func (a *anchorFile) load() (*anchorState, error) {
	data, err := os.ReadFile(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read its anchor %s: %w", a.path, err)
	}
	var j anchorJSON
	if err := json.Unmarshal(data, &j); err != nil || j.Version != 1 {
		return nil, fmt.Errorf("its anchor file %s is damaged", a.path)
	}
	auth, err := hex.DecodeString(j.Auth)
	if err != nil || !hmac.Equal(auth, a.auth(j.Committed, j.Pending)) {
		return nil, fmt.Errorf("its anchor file %s was modified or comes from another master key", a.path)
	}
	var st anchorState
	if st.Committed, err = parseRowsState(j.Committed); err != nil {
		return nil, fmt.Errorf("its anchor file %s is damaged: %v", a.path, err)
	}
	if j.Pending != "" {
		p, err := parseRowsState(j.Pending)
		if err != nil {
			return nil, fmt.Errorf("its anchor file %s is damaged: %v", a.path, err)
		}
		st.Pending = &p
	}
	return &st, nil
}

// save writes the anchor atomically. With durable, the rename is synced too
// (the directory): the prepared state must survive a power cut before the
// commit it announces. A finished state need not: losing it leaves the
// prepared one, which accepts the same database.
func (a *anchorFile) save(st anchorState, durable bool) error {
	j := anchorJSON{Version: 1, Committed: st.Committed.String()}
	if st.Pending != nil {
		j.Pending = st.Pending.String()
	}
	j.Auth = hex.EncodeToString(a.auth(j.Committed, j.Pending))
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	dir := filepath.Dir(a.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(a.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write the settings anchor: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), a.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write the settings anchor %s: %w", a.path, err)
	}
	if durable {
		syncDir(dir)
	}
	return nil
}

// withLock runs fn holding the anchor's cross-process lock.
func (a *anchorFile) withLock(fn func() error) error {
	f, err := os.OpenFile(a.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock the settings anchor: %w", err)
	}
	defer f.Close() // closing releases the lock
	if err := filelock.Lock(f); err != nil {
		return fmt.Errorf("lock the settings anchor %s: %w", f.Name(), err)
	}
	return fn()
}

// syncDir makes a rename in dir durable where the system allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync() // not supported on every system; the rename is still atomic
	d.Close()
}

// prepare is step 1 of a write: called inside the write transaction, after
// its changes, with the database's state before (from) and after (to).
func (s *Store) prepareAnchor(from, to rowsState) error {
	return s.anchor.withLock(func() error {
		a, err := s.anchor.load()
		switch {
		case s.accepting:
			// Accept: the database is taken as it is, whatever the anchor says.
		case err != nil:
			return &ModifiedError{Path: s.path, Detail: err.Error()}
		case a == nil && from.Gen == 0:
		case a == nil:
			return &ModifiedError{Path: s.path, Detail: fmt.Sprintf("its anchor file %s is missing", s.anchor.path)}
		case from == a.Committed, a.Pending != nil && from == *a.Pending:
		default:
			return &ModifiedError{Path: s.path, Detail: fmt.Sprintf("it does not match its anchor (change %d; PgSafe last wrote change %d)", from.Gen, a.Committed.Gen)}
		}
		return s.anchor.save(anchorState{Committed: from, Pending: &to}, true)
	})
}

// finishAnchor is step 3: the write committed state to.
func (s *Store) finishAnchor(to rowsState) error {
	return s.anchor.withLock(func() error {
		a, err := s.anchor.load()
		if err != nil {
			return err
		}
		if a == nil || a.Pending == nil || *a.Pending != to {
			return nil // another writer has moved it on since
		}
		return s.anchor.save(anchorState{Committed: to}, false)
	})
}

// writeTx is WriteTx; track is false only for the first migration, before
// the meta table exists.
func (s *Store) writeTx(ctx context.Context, track bool, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("begin write", err)
	}
	var from rowsState
	if track {
		if from, err = s.readRowsState(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	changed := false
	var to rowsState
	if track {
		if to, err = s.readRowsState(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
		if to.Digest != from.Digest {
			changed, to.Gen = true, from.Gen+1
			if err := s.writeRowsState(ctx, tx, to); err != nil {
				tx.Rollback()
				return err
			}
			if err := s.prepareAnchor(from, to); err != nil {
				tx.Rollback()
				return err
			}
		}
	}
	if s.hooks.beforeCommit != nil {
		if err := s.hooks.beforeCommit(); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("commit", err)
	}
	if !changed {
		return nil
	}
	if s.hooks.afterCommit != nil {
		if err := s.hooks.afterCommit(); err != nil {
			return err
		}
	}
	if err := s.finishAnchor(to); err != nil {
		// The write is committed and the anchor names it as pending, which
		// is accepted; the next write or open finishes it.
		slog.Warn("settings anchor not finished", "path", s.anchor.path, "err", err)
	}
	return nil
}

// testHooks simulate crashes in tests: an error from beforeCommit rolls the
// write back after the anchor was prepared; one from afterCommit returns
// before the anchor is finished.
type testHooks struct {
	beforeCommit func() error
	afterCommit  func() error
}
