package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ServerRestore is one database of a whole-server restore.
type ServerRestore struct {
	Database string                 `json:"database"` // its name, on the backed-up server and the target
	BackupID string                 `json:"backupId"`
	Result   *restore.RestoreResult `json:"result,omitempty"`
	Error    string                 `json:"error,omitempty"`
	// RowsMatch: every table's rows match the counts recorded at backup.
	RowsMatch bool `json:"rowsMatch"`
}

// RestoreServer restores a server entry's run into another server: every
// database the run backed up (or only those named), each into a database
// of the same name, created on the target, whose URL (postgres://, write
// credentials able to create databases, used for this restore only) names
// the server; its database is only the one the target is checked from.
// Nothing is written when a database to restore already exists there.
// Each database's backup carries the server's roles, so opts' role choices
// (create the missing ones, map them, drop owners) apply to each, the first
// one creating what the others then find. Each is checked against its
// recorded row counts. One failing does not stop the others; the error
// says which failed.
func (e *Engine) RestoreServer(ctx context.Context, run store.Backup, toURL string, only []string, opts RestoreOptions) ([]ServerRestore, error) {
	opts.Replace = false // into an empty server: an existing database is refused below
	m, ok := RunOf(run)
	if !ok {
		return nil, fmt.Errorf("backup %s is not a run of a server entry: restore it on its own", run.ID)
	}
	base, err := url.Parse(toURL)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		return nil, errors.New("give the target server as a postgres:// URL (its databases are created beside the one it names)")
	}
	var todo []ServerRestore
	var known []string
	for _, d := range m.Databases {
		known = append(known, d.Database)
		if len(only) > 0 && !slices.Contains(only, d.Database) {
			continue
		}
		if d.Status != string(store.StatusSucceeded) || d.BackupID == "" {
			todo = append(todo, ServerRestore{Database: d.Database, Error: "not backed up in this run: " + firstLine(d.Error)})
			continue
		}
		todo = append(todo, ServerRestore{Database: d.Database, BackupID: d.BackupID})
	}
	for _, o := range only {
		if !slices.Contains(known, o) {
			return nil, fmt.Errorf("the run %s has no database %s (it has %s)", run.ID, o, strings.Join(known, ", "))
		}
	}
	if len(todo) == 0 {
		return nil, fmt.Errorf("the run %s holds no database to restore", run.ID)
	}
	cfg, err := pg.ParseConnString(toURL)
	if err != nil {
		return nil, err
	}
	if err := refuseExisting(ctx, cfg, todo); err != nil {
		return nil, err
	}
	var failed []string
	for i := range todo {
		r := &todo[i]
		if r.BackupID == "" {
			failed = append(failed, r.Database)
			continue
		}
		b, err := e.store.Backup(ctx, r.BackupID)
		if err == nil {
			u := *base
			u.Path = "/" + r.Database
			r.Result, err = e.RestoreBackup(ctx, b, RestoreTarget{URL: u.String()}, opts)
		}
		switch {
		case err != nil:
			r.Error = err.Error()
		case !r.Result.Rows.Match():
			r.Error = "its row counts differ from the ones recorded at backup"
		default:
			r.RowsMatch = true
		}
		if r.Error != "" {
			failed = append(failed, r.Database)
		}
		if ctx.Err() != nil {
			return todo, ctx.Err()
		}
	}
	if len(failed) > 0 {
		return todo, fmt.Errorf("%d of %d databases were not restored as backed up: %s", len(failed), len(todo), strings.Join(failed, ", "))
	}
	return todo, nil
}

// refuseExisting fails, writing nothing, when a database to restore
// already exists on the target server.
func refuseExisting(ctx context.Context, cfg pg.Config, todo []ServerRestore) error {
	conn, err := pg.Connect(ctx, cfg)
	if err != nil {
		return fmt.Errorf("check the target server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	there, err := pg.Databases(ctx, conn)
	if err != nil {
		return err
	}
	var clash []string
	for _, r := range todo {
		if slices.Contains(there, r.Database) {
			clash = append(clash, r.Database)
		}
	}
	if len(clash) > 0 {
		return fmt.Errorf("the target server already has %s: restore a whole server into an empty one, or name the others with --only; nothing was restored",
			strings.Join(clash, ", "))
	}
	return nil
}
