package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// entity is the shared code of the named, user-configured tables
// (databases, storages, notifiers): an integer id, created/updated times, a
// few plaintext columns derived from the config, and one sealed record.
type entity[C any] struct {
	table    string                     // SQL table
	noun     string                     // for messages: "database"
	name     func(*C) string            // the user's name for the row, unique (case-insensitively)
	validate func(*C) error             // after secrets are merged
	columns  func(*C) ([]string, []any) // plaintext columns (kind, enabled), or nil
}

// row is one entity row with its config.
type row[C any] struct {
	ID        int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Config    C
}

func rowID(id int64) string { return strconv.FormatInt(id, 10) }

func (e *entity[C]) plain(c *C) ([]string, []any) {
	if e.columns == nil {
		return nil, nil
	}
	return e.columns(c)
}

func (e *entity[C]) create(ctx context.Context, s *Store, tx *sql.Tx, c *C) (int64, error) {
	// A create has nothing stored to keep: "keep" and "remove" both mean none.
	mergeSecrets(new(C), c)
	if err := e.validate(c); err != nil {
		return 0, err
	}
	if err := e.checkName(ctx, s, tx, c, 0); err != nil {
		return 0, err
	}
	cols, vals := e.plain(c)
	t := now()
	cols = append(cols, "created_at", "updated_at", "sealed")
	vals = append(vals, t, t, []byte{})
	res, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s(%s) VALUES (%s)", e.table,
		strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")), vals...)
	if err != nil {
		return 0, s.wrap("add "+e.noun, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap("add "+e.noun, err)
	}
	blob, err := s.sealRow(e.table, rowID(id), c)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+e.table+" SET sealed = ? WHERE id = ?", blob, id); err != nil {
		return 0, s.wrap("add "+e.noun, err)
	}
	if err := s.stampRows(ctx, tx, e.table, "id = ?", id); err != nil {
		return 0, err
	}
	return id, nil
}

// update replaces the config of row id with upd (secrets merged as
// mergeSecrets says) and reports the changed fields; no change, no write.
func (e *entity[C]) update(ctx context.Context, s *Store, tx *sql.Tx, id int64, upd *C) (Changes, error) {
	old, err := e.get(ctx, s, tx, id, true)
	if err != nil {
		return nil, err
	}
	mergeSecrets(&old.Config, upd)
	if err := e.validate(upd); err != nil {
		return nil, err
	}
	if err := e.checkName(ctx, s, tx, upd, id); err != nil {
		return nil, err
	}
	changes := diffFields(old.Config, *upd)
	if len(changes) == 0 {
		return nil, nil
	}
	blob, err := s.sealRow(e.table, rowID(id), upd)
	if err != nil {
		return nil, err
	}
	cols, vals := e.plain(upd)
	cols = append(cols, "updated_at", "sealed")
	vals = append(vals, now(), blob, id)
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s WHERE id = ?", e.table, strings.Join(set, ", ")), vals...); err != nil {
		return nil, s.wrap("update "+e.noun, err)
	}
	if err := s.stampRows(ctx, tx, e.table, "id = ?", id); err != nil {
		return nil, err
	}
	return changes, nil
}

func (e *entity[C]) delete(ctx context.Context, s *Store, tx *sql.Tx, id int64) error {
	n, err := s.deleteRows(ctx, tx, e.table, "id = ?", id)
	if err != nil {
		return err
	}
	if n == 0 {
		return e.notFound(id)
	}
	return nil
}

func (e *entity[C]) get(ctx context.Context, s *Store, q querier, id int64, secrets bool) (row[C], error) {
	rows, err := e.query(ctx, s, q, "WHERE id = ?", []any{id}, secrets)
	if err != nil {
		return row[C]{}, err
	}
	if len(rows) == 0 {
		return row[C]{}, e.notFound(id)
	}
	return rows[0], nil
}

func (e *entity[C]) list(ctx context.Context, s *Store, q querier, secrets bool) ([]row[C], error) {
	return e.query(ctx, s, q, "ORDER BY id", nil, secrets)
}

// byName finds a row by its name. Names live in sealed records, so this opens
// every row; settings tables are small.
func (e *entity[C]) byName(ctx context.Context, s *Store, q querier, name string, secrets bool) (row[C], error) {
	rows, err := e.list(ctx, s, q, secrets)
	if err != nil {
		return row[C]{}, err
	}
	for _, r := range rows {
		if e.name(&r.Config) == name {
			return r, nil
		}
	}
	for _, r := range rows {
		if strings.EqualFold(e.name(&r.Config), name) {
			return r, nil
		}
	}
	return row[C]{}, fmt.Errorf("no %s named %q: %w", e.noun, name, ErrNotFound)
}

func (e *entity[C]) query(ctx context.Context, s *Store, q querier, where string, args []any, secrets bool) ([]row[C], error) {
	return e.queryRows(ctx, s, q, where, args, secrets, true)
}

// queryRows reads rows; with verify, each row's MAC is checked (false only
// in the migration that adds the MACs).
func (e *entity[C]) queryRows(ctx context.Context, s *Store, q querier, where string, args []any, secrets, verify bool) ([]row[C], error) {
	rs, err := q.QueryContext(ctx, "SELECT id, created_at, updated_at, sealed"+bindingCols(e.table)+" FROM "+e.table+" "+where, args...)
	if err != nil {
		return nil, s.wrap("read "+e.noun+"s", err)
	}
	defer rs.Close()
	var out []row[C]
	for rs.Next() {
		var (
			r            row[C]
			created, upd int64
			blob         []byte
			b            binding
		)
		if err := rs.Scan(append([]any{&r.ID, &created, &upd, &blob}, b.dest()...)...); err != nil {
			return nil, s.wrap("read "+e.noun+"s", err)
		}
		if err := s.openRow(e.table, rowID(r.ID), blob, &r.Config, secrets); err != nil {
			return nil, err
		}
		if verify {
			if err := s.checkBinding(e.table, &b); err != nil {
				return nil, err
			}
		}
		r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(upd)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("read "+e.noun+"s", err)
	}
	return out, nil
}

// checkName refuses a name another row (not self) already has. It runs inside
// the write transaction, so no other writer can add the same name meanwhile.
func (e *entity[C]) checkName(ctx context.Context, s *Store, tx *sql.Tx, c *C, self int64) error {
	name := e.name(c)
	rows, err := e.list(ctx, s, tx, false)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.ID != self && strings.EqualFold(e.name(&r.Config), name) {
			return &ConflictError{Msg: fmt.Sprintf("a %s named %q already exists (id %d): choose another name", e.noun, e.name(&r.Config), r.ID)}
		}
	}
	return nil
}

func (e *entity[C]) notFound(id int64) error {
	return fmt.Errorf("no %s with id %d: %w", e.noun, id, ErrNotFound)
}
