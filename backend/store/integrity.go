package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// Integrity of the plaintext columns (docs/STORE.md, "Integrity").
//
// Every row of a bound table carries `version` (bumped at each write) and
// `mac` = HMAC-SHA256(row MAC key, label ‖ table ‖ row ‖ version ‖ every
// other column of the row, sealed record included, in SQLite's quote() form).
// A row whose plaintext columns (sizes, times, status, ids) were edited does
// not verify, and is reported as damaged instead of being acted on.
//
// The rows' MACs are summed into a set digest, XOR over all live rows, kept
// in meta (`rows_state`: generation and digest) and updated in the same write
// transaction as the rows; an anchor file beside the database
// (anchor.go) holds the last committed (generation, digest). A row rolled
// back to an older copy of itself (old blob, old plaintext, old MAC) still
// verifies on its own, but changes the digest; the whole file rolled back no
// longer matches the anchor.

// boundTable is a table whose rows are bound by a row MAC.
type boundTable struct {
	name string
	row  string   // SQL text of the row's name, as in sealed records' associated data
	cols []string // every column but version and mac, in a fixed order
}

// boundTables lists every table with a row MAC. audit_log is not one: it has
// its own MAC chain (backend/audit). database_storages is an index of the
// storage IDs sealed in each database's record (databases.go).
var boundTables = []boundTable{
	{"databases", "CAST(id AS TEXT)", []string{"id", "created_at", "updated_at", "sealed"}},
	{"storages", "CAST(id AS TEXT)", []string{"id", "kind", "created_at", "updated_at", "sealed"}},
	{"notifiers", "CAST(id AS TEXT)", []string{"id", "kind", "enabled", "created_at", "updated_at", "sealed"}},
	{"schedules", "CAST(database_id AS TEXT)", []string{"database_id", "enabled", "last_run_at", "next_run_at", "updated_at", "sealed"}},
	{"retention_policies", "CAST(database_id AS TEXT)", []string{"database_id", "updated_at", "sealed"}},
	{"backups", "id", []string{"id", "database_id", "status", "origin", "started_at", "finished_at", "raw_size", "stored_size", "key_id", "sealed"}},
	{"backup_copies", "backup_id || '/' || storage_id", []string{"backup_id", "storage_id", "status", "size", "updated_at", "sealed"}},
	{"restores", "CAST(id AS TEXT)", []string{"id", "kind", "backup_id", "database_id", "status", "started_at", "finished_at", "sealed"}},
	{"settings", "key", []string{"key", "updated_at", "sealed"}},
	{"health_checks", "CAST(id AS TEXT)", []string{"id", "database_id", "at", "ok", "latency_ms", "sealed"}},
	{"backup_manifests", "backup_id", []string{"backup_id", "sealed"}}, // since schema version 4
}

// boundSince are the bound tables added after version 3, which bound the
// tables there were then (bindRows), with the version that added each.
var boundSince = map[string]int{"backup_manifests": 4}

func boundTableNamed(name string) boundTable {
	for _, t := range boundTables {
		if t.name == name {
			return t
		}
	}
	panic("store: no bound table " + name)
}

// input is the SQL expression of the row's MAC input: each column in
// SQLite's quote() form (NULL, 12, 'text', X'00FF'), comma-separated. quote
// is canonical and self-delimiting, so two different rows never share an
// input.
func (t boundTable) input() string {
	q := make([]string, len(t.cols))
	for i, c := range t.cols {
		q[i] = "quote(" + c + ")"
	}
	return strings.Join(q, " || ',' || ")
}

// bindingCols is the SELECT-list fragment readers append to read a row's
// binding: ", <row name>, <MAC input>, version, mac".
func bindingCols(table string) string {
	t := boundTableNamed(table)
	return ", " + t.row + ", " + t.input() + ", version, mac"
}

// binding is what a reader scans from bindingCols.
type binding struct {
	row     string
	input   string
	version int64
	mac     []byte
}

func (b *binding) dest() []any { return []any{&b.row, &b.input, &b.version, &b.mac} }

const macLabel = "pgsafe/v1/store-row-mac\x00"

// rowMAC is the MAC of one row's content at version.
func (s *Store) rowMAC(table, row string, version int64, input string) []byte {
	h := hmac.New(sha256.New, s.macKey)
	h.Write([]byte(macLabel))
	var n [8]byte
	for _, part := range []string{table, row} {
		binary.BigEndian.PutUint32(n[:4], uint32(len(part)))
		h.Write(n[:4])
		h.Write([]byte(part))
	}
	binary.BigEndian.PutUint64(n[:], uint64(version))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(len(input)))
	h.Write(n[:])
	h.Write([]byte(input))
	return h.Sum(nil)
}

// checkBinding verifies a row read with bindingCols.
func (s *Store) checkBinding(table string, b *binding) error {
	if b.version > 0 && hmac.Equal(b.mac, s.rowMAC(table, b.row, b.version, b.input)) {
		return nil
	}
	return &DamagedRowError{Path: s.path, Table: table, Row: b.row}
}

// ErrModified: the settings database was changed outside PgSafe. Both
// *DamagedRowError and *ModifiedError match it with errors.Is.
var ErrModified = errors.New("the settings database was modified outside PgSafe")

// DamagedRowError: one row's columns do not match its MAC (someone edited a
// size, time, status or id, or copied a row from elsewhere). PgSafe does not
// use the row; other rows stay usable.
type DamagedRowError struct {
	Path  string
	Table string
	Row   string
}

func (e *DamagedRowError) Error() string {
	return fmt.Sprintf("settings database %s: %s row %s was modified outside PgSafe (its values do not match their MAC); PgSafe will not act on this row. If you did not edit the file, someone with access to your account did; backup files in your storages are not touched",
		e.Path, e.Table, e.Row)
}

// Is makes errors.Is(err, ErrModified) true.
func (e *DamagedRowError) Is(target error) bool { return target == ErrModified }

// ModifiedError: the database as a whole does not match its anchor (rows
// rolled back to older copies, rows removed, or the file replaced by an older
// copy).
type ModifiedError struct {
	Path   string
	Detail string
}

func (e *ModifiedError) Error() string {
	return fmt.Sprintf("settings database %s was modified outside PgSafe: %s. PgSafe will not use these settings until you decide: if you restored or edited this file yourself, accept it as it is; otherwise someone with access to your account changed it, and you can move it away and set up again (your backups stay in their storages)",
		e.Path, e.Detail)
}

// Is makes errors.Is(err, ErrModified) true.
func (e *ModifiedError) Is(target error) bool { return target == ErrModified }

// rowsState is the generation and set digest of the bound rows.
type rowsState struct {
	Gen    int64
	Digest [32]byte
}

func (r rowsState) String() string {
	return strconv.FormatInt(r.Gen, 10) + ":" + hex.EncodeToString(r.Digest[:])
}

func parseRowsState(v string) (rowsState, error) {
	var r rowsState
	g, d, ok := strings.Cut(v, ":")
	if !ok {
		return r, errors.New("malformed rows state")
	}
	gen, err := strconv.ParseInt(g, 10, 64)
	if err != nil || gen < 0 {
		return r, errors.New("malformed rows state generation")
	}
	b, err := hex.DecodeString(d)
	if err != nil || len(b) != len(r.Digest) {
		return r, errors.New("malformed rows state digest")
	}
	r.Gen = gen
	copy(r.Digest[:], b)
	return r, nil
}

// readRowsState reads the recorded state; none recorded is generation 0 with
// a zero digest (a database with no bound rows yet).
func (s *Store) readRowsState(ctx context.Context, q querier) (rowsState, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'rows_state'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return rowsState{}, nil
	}
	if err != nil {
		return rowsState{}, s.wrap("read rows state", err)
	}
	r, err := parseRowsState(v)
	if err != nil {
		return rowsState{}, &ModifiedError{Path: s.path, Detail: "its integrity record is damaged: " + err.Error()}
	}
	return r, nil
}

func (s *Store) writeRowsState(ctx context.Context, tx *sql.Tx, r rowsState) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('rows_state', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", r.String())
	if err != nil {
		return s.wrap("write rows state", err)
	}
	return nil
}

// xorDigest folds MACs into (or out of: XOR is its own inverse) the recorded
// digest. The generation is bumped once per transaction, by WriteTx.
func (s *Store) xorDigest(ctx context.Context, tx *sql.Tx, macs ...[]byte) error {
	r, err := s.readRowsState(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range macs {
		if len(m) != len(r.Digest) {
			continue // a row without a MAC yet contributes nothing
		}
		for i := range r.Digest {
			r.Digest[i] ^= m[i]
		}
	}
	return s.writeRowsState(ctx, tx, r)
}

// verifyRows checks the MAC of every row of table matching where. Call it
// before a partial update, so that an update never re-binds a column someone
// else edited.
func (s *Store) verifyRows(ctx context.Context, q querier, table, where string, args ...any) error {
	rs, err := q.QueryContext(ctx, "SELECT 0"+bindingCols(table)+" FROM "+table+" WHERE "+where, args...)
	if err != nil {
		return s.wrap("read "+table, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			zero int
			b    binding
		)
		if err := rs.Scan(append([]any{&zero}, b.dest()...)...); err != nil {
			return s.wrap("read "+table, err)
		}
		if err := s.checkBinding(table, &b); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return s.wrap("read "+table, err)
	}
	return nil
}

// stampRows binds every row of table matching where as it now is: version+1
// and a new MAC, the old MAC folded out of the digest and the new one in.
// Call it after inserting or writing the rows, in the same transaction.
func (s *Store) stampRows(ctx context.Context, tx *sql.Tx, table, where string, args ...any) error {
	t := boundTableNamed(table)
	type stamp struct {
		rowid int64
		b     binding
	}
	var rows []stamp
	rs, err := tx.QueryContext(ctx, "SELECT rowid"+bindingCols(table)+" FROM "+table+" WHERE "+where, args...)
	if err != nil {
		return s.wrap("bind "+table, err)
	}
	for rs.Next() {
		var st stamp
		if err := rs.Scan(append([]any{&st.rowid}, st.b.dest()...)...); err != nil {
			rs.Close()
			return s.wrap("bind "+table, err)
		}
		rows = append(rows, st)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return s.wrap("bind "+table, err)
	}
	macs := make([][]byte, 0, 2*len(rows))
	for _, st := range rows {
		mac := s.rowMAC(t.name, st.b.row, st.b.version+1, st.b.input)
		if _, err := tx.ExecContext(ctx, "UPDATE "+t.name+" SET version = ?, mac = ? WHERE rowid = ?", st.b.version+1, mac, st.rowid); err != nil {
			return s.wrap("bind "+table, err)
		}
		macs = append(macs, st.b.mac, mac)
	}
	if len(macs) == 0 {
		return nil
	}
	return s.xorDigest(ctx, tx, macs...)
}

// updateRows verifies the rows of table matching where, applies set (an SQL
// SET list with setArgs) to them and binds them again.
func (s *Store) updateRows(ctx context.Context, tx *sql.Tx, table, where string, whereArgs []any, set string, setArgs ...any) (int, error) {
	if err := s.verifyRows(ctx, tx, table, where, whereArgs...); err != nil {
		return 0, err
	}
	rs, err := tx.QueryContext(ctx, "SELECT rowid FROM "+table+" WHERE "+where, whereArgs...)
	if err != nil {
		return 0, s.wrap("update "+table, err)
	}
	var ids []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return 0, s.wrap("update "+table, err)
		}
		ids = append(ids, id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, s.wrap("update "+table, err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE rowid = ?", append(setArgs, id)...); err != nil {
			return 0, s.wrap("update "+table, err)
		}
		if err := s.stampRows(ctx, tx, table, "rowid = ?", id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// deleteRows deletes the rows of table matching where and folds their MACs
// out of the digest. A damaged row may be deleted (that is the way out of
// it); a row rolled back to an older MAC leaves the digest off, which the
// next integrity check reports.
func (s *Store) deleteRows(ctx context.Context, tx *sql.Tx, table, where string, args ...any) (int, error) {
	boundTableNamed(table)
	rs, err := tx.QueryContext(ctx, "DELETE FROM "+table+" WHERE "+where+" RETURNING mac", args...)
	if err != nil {
		return 0, s.wrap("remove from "+table, err)
	}
	var macs [][]byte
	for rs.Next() {
		var m []byte
		if err := rs.Scan(&m); err != nil {
			rs.Close()
			return 0, s.wrap("remove from "+table, err)
		}
		macs = append(macs, m)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, s.wrap("remove from "+table, err)
	}
	if len(macs) == 0 {
		return 0, nil
	}
	return len(macs), s.xorDigest(ctx, tx, macs...)
}

// rowsDigest XORs the stored MACs of every bound row: what the recorded
// digest must be.
func (s *Store) rowsDigest(ctx context.Context, q querier) ([32]byte, error) {
	var d [32]byte
	for _, t := range boundTables {
		rs, err := q.QueryContext(ctx, "SELECT mac FROM "+t.name)
		if err != nil {
			return d, s.wrap("read "+t.name, err)
		}
		for rs.Next() {
			var m []byte
			if err := rs.Scan(&m); err != nil {
				rs.Close()
				return d, s.wrap("read "+t.name, err)
			}
			if len(m) == len(d) {
				for i := range d {
					d[i] ^= m[i]
				}
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return d, s.wrap("read "+t.name, err)
		}
	}
	return d, nil
}

// CheckIntegrity compares the bound rows with the recorded digest and the
// recorded state with the anchor file. It fails with a *ModifiedError when a
// row was rolled back to an older copy or removed, or the file replaced by
// an older one. Retention calls it before deleting anything. Single damaged
// rows are reported when read (*DamagedRowError), not here.
func (s *Store) CheckIntegrity(ctx context.Context) error {
	return s.anchor.withLock(func() error {
		a, err := s.anchor.load()
		if err != nil {
			return &ModifiedError{Path: s.path, Detail: err.Error()}
		}
		var (
			st   rowsState
			rows [32]byte
		)
		err = s.readTx(ctx, func(tx *sql.Tx) error {
			var err error
			if st, err = s.readRowsState(ctx, tx); err != nil {
				return err
			}
			rows, err = s.rowsDigest(ctx, tx)
			return err
		})
		if err != nil {
			return err
		}
		if rows != st.Digest {
			return &ModifiedError{Path: s.path, Detail: "rows were replaced by older copies of themselves, added or removed"}
		}
		switch {
		case a == nil && st.Gen == 0:
			return nil
		case a == nil:
			return &ModifiedError{Path: s.path, Detail: fmt.Sprintf("its anchor file %s is missing", s.anchor.path)}
		case st == a.Committed:
			return nil
		case a.Pending != nil && st == *a.Pending:
			// The last writer committed and stopped before finishing the
			// anchor (a crash): finish it.
			return s.anchor.save(anchorState{Committed: st}, false)
		case st.Gen < a.Committed.Gen:
			return &ModifiedError{Path: s.path, Detail: fmt.Sprintf("it is an older copy (change %d; PgSafe last wrote change %d)", st.Gen, a.Committed.Gen)}
		default:
			return &ModifiedError{Path: s.path, Detail: fmt.Sprintf("it does not match its anchor (change %d; PgSafe last wrote change %d)", st.Gen, a.Committed.Gen)}
		}
	})
}

// bindRows is migration 3: every bound table gets version and mac columns,
// each database's record gets its storage IDs (until now only in
// database_storages), and every row is bound as it is. Rows written before
// this version were not authenticated; they are trusted as found, once.
func bindRows(ctx context.Context, s *Store, tx *sql.Tx) error {
	var tables []boundTable
	for _, t := range boundTables {
		if boundSince[t.name] <= 3 {
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+t.name+" ADD COLUMN version INTEGER NOT NULL DEFAULT 0"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+t.name+" ADD COLUMN mac BLOB"); err != nil {
			return err
		}
	}
	rows, err := databases.queryRows(ctx, s, tx, "ORDER BY id", nil, true, false)
	if err != nil {
		return err
	}
	for _, r := range rows {
		c := r.Config
		if c.StorageIDs, err = s.indexedStorages(ctx, tx, r.ID); err != nil {
			return err
		}
		blob, err := s.sealRow("databases", rowID(r.ID), &c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE databases SET sealed = ? WHERE id = ?", blob, r.ID); err != nil {
			return err
		}
	}
	for _, t := range tables {
		if err := s.stampRows(ctx, tx, t.name, "1"); err != nil {
			return err
		}
	}
	return nil
}

// Accept opens the settings database at path like Open, but accepts it as
// it now is when it was modified outside PgSafe: rows rolled back or removed,
// an older copy of the file, a lost anchor, rows whose columns were edited
// (they are bound again as they are) and database_storages links (rebuilt
// from the sealed storage lists). It is for a user who restored or edited the
// file on purpose; what it accepted is logged, and callers should audit it.
func Accept(ctx context.Context, path string, mk *keys.MasterKey) (*Store, error) {
	return open(ctx, path, mk, true)
}

func (s *Store) acceptRows(ctx context.Context) error {
	damaged, err := s.Damaged(ctx)
	if err != nil {
		return err
	}
	if err := s.CheckIntegrity(ctx); len(damaged) == 0 && (err == nil || !errors.Is(err, ErrModified)) {
		return err
	}
	return s.writeTx(ctx, false, func(tx *sql.Tx) error {
		for _, t := range boundTables {
			rows, err := s.damagedRows(ctx, tx, t.name)
			if err != nil {
				return err
			}
			for _, r := range rows {
				slog.Warn("settings database: accepting a row modified outside PgSafe", "path", s.path, "table", r.err.Table, "row", r.err.Row)
				if err := s.stampRows(ctx, tx, t.name, "rowid = ?", r.rowid); err != nil {
					return err
				}
			}
		}
		dbs, err := databases.queryRows(ctx, s, tx, "ORDER BY id", nil, false, false)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			if s.checkStorageIndex(ctx, tx, d.ID, d.Config.StorageIDs) == nil {
				continue
			}
			slog.Warn("settings database: rebuilding a database's storage links from its sealed list", "path", s.path, "database", d.ID)
			if err := s.setDatabaseStorages(ctx, tx, d.ID, d.Config.StorageIDs); err != nil {
				return err
			}
		}
		old, err := s.readRowsState(ctx, tx)
		if err != nil {
			old = rowsState{}
		}
		digest, err := s.rowsDigest(ctx, tx)
		if err != nil {
			return err
		}
		return s.anchor.withLock(func() error {
			a, _ := s.anchor.load() // a damaged anchor is replaced
			gen := old.Gen
			if a != nil && a.Committed.Gen > gen {
				gen = a.Committed.Gen
			}
			if a != nil && a.Pending != nil && a.Pending.Gen > gen {
				gen = a.Pending.Gen
			}
			to := rowsState{Gen: gen + 1, Digest: digest}
			if err := s.writeRowsState(ctx, tx, to); err != nil {
				return err
			}
			slog.Warn("settings database modified outside PgSafe: accepted as it is", "path", s.path, "change", to.Gen)
			return s.anchor.save(anchorState{Committed: old, Pending: &to}, true)
		})
	})
}
