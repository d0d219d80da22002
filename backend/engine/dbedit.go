package engine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// DatabaseEdit is a change to a stored database; what is left unset stays
// as it is. Its schedule, history, health checks and drill policy are keyed
// by its id, so they follow a rename.
type DatabaseEdit struct {
	// Name renames it ("": keep the name).
	Name string
	// Connection replaces how it is reached: a URL or fields, as when
	// adding (its Name, StorageNames and CountRows are not read). Secrets
	// are write-only: an empty password, SSL key passphrase or SSH secret
	// keeps the stored one. A changed connection is tested and its role's
	// privileges audited before anything is stored.
	Connection *DatabaseInput
	// CountRows: record per-table row counts in each backup (nil: keep).
	CountRows *bool
	// Storages: where its backups go (nil: keep).
	Storages *[]string
	// Exclude and Parallel: a server entry's excluded databases and how
	// many it backs up at once (nil: keep).
	Exclude  *[]string
	Parallel *int
}

// EditOptions are the choices an edit of the connection offers.
type EditOptions struct {
	// AllowWriteAccess accepts a role that can change data (audited as
	// database.write_access_accepted); without it such a role is refused.
	AllowWriteAccess bool
}

// EditResult is what UpdateDatabase changed and, when the connection
// changed, what its checks found.
type EditResult struct {
	Name    string         `json:"name"`    // the database's name now
	Changed []string       `json:"changed"` // field names, never values
	Server  *pg.ServerInfo `json:"server,omitempty"`
	Report  *pg.Report     `json:"report,omitempty"`
}

// bookkeeping are the fields an edit updates on its own (the newest
// privilege check); the audit's "fields" lists only what the user changed.
var bookkeeping = []string{"verdict", "checked_at", "write_accepted"}

// UpdateDatabase changes a stored database. A new connection is tested and
// audited exactly as AddDatabase does: a connection that fails, or a role
// that can change data without opts.AllowWriteAccess, changes nothing.
// Audited as database.changed with the names of the changed fields.
func (e *Engine) UpdateDatabase(ctx context.Context, name string, edit DatabaseEdit, opts EditOptions) (*EditResult, error) {
	d, old, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	if d.ServerEntry != 0 && (edit.Connection != nil || edit.CountRows != nil || edit.Storages != nil || edit.Exclude != nil || edit.Parallel != nil) {
		return nil, fmt.Errorf("%s is a database of a server entry: its connection, storages and settings are the server entry's; change them there", old.Name)
	}
	if !old.AllDatabases && (edit.Exclude != nil || edit.Parallel != nil) {
		return nil, fmt.Errorf("%s is a single database: exclusions and parallel backups are for a server entry (all databases)", old.Name)
	}
	n := old
	res := &EditResult{Name: old.Name, Changed: []string{}}
	if edit.Exclude != nil {
		n.Exclude = slices.Clone(*edit.Exclude)
	}
	if edit.Parallel != nil {
		n.Parallel = *edit.Parallel
	}
	if edit.Name != "" && edit.Name != old.Name {
		if e.backupRunning(d.ID) {
			return nil, fmt.Errorf("a backup of %s is running: rename it when the backup has finished", old.Name)
		}
		n.Name = edit.Name
	}
	if edit.CountRows != nil {
		n.CountRows = *edit.CountRows
	}
	if edit.Storages != nil {
		if n.StorageIDs, err = e.storageIDs(ctx, *edit.Storages); err != nil {
			return nil, err
		}
	}
	var writeAccepted bool
	if edit.Connection != nil {
		if n, err = withConnection(n, *edit.Connection); err != nil {
			return nil, err
		}
		if !sameConnection(old, n) {
			chk, err := check(ctx, n)
			if err != nil {
				return nil, fmt.Errorf("the new connection of %s was not saved: %w", old.Name, err)
			}
			res.Server, res.Report = &chk.Server, &chk.Report
			n.Verdict, n.CheckedAt, n.WriteAccepted = string(chk.Report.Verdict), time.Now().UTC(), false
			if chk.Report.Verdict == pg.VerdictWriteAccess {
				if !opts.AllowWriteAccess {
					e.record(ctx, Event{Action: "database.write_access_refused", Outcome: "denied", Target: old.Name})
					return res, &WriteAccessError{Report: chk.Report}
				}
				n.WriteAccepted, writeAccepted = true, true
			}
		}
	}
	changes, err := e.store.UpdateDatabase(ctx, d.ID, n)
	if err != nil {
		return nil, err
	}
	res.Name = n.Name
	for _, c := range changes {
		if !slices.Contains(bookkeeping, c) {
			res.Changed = append(res.Changed, c)
		}
	}
	if len(changes) == 0 {
		return res, nil
	}
	id := strconv.FormatInt(d.ID, 10)
	fields := map[string]string{"id": id, "fields": strings.Join(res.Changed, ",")}
	if n.Name != old.Name {
		fields["renamed_from"] = old.Name
	}
	if res.Report != nil {
		fields["verdict"] = string(res.Report.Verdict)
	}
	if err := e.record(ctx, Event{Action: "database.changed", Target: n.Name, Fields: fields}); err != nil {
		return nil, err
	}
	if writeAccepted {
		if err := e.record(ctx, Event{Action: "database.write_access_accepted", Target: n.Name, Fields: map[string]string{"id": id},
			Message: "the user accepted a role that can change data"}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// CheckDatabaseChange tests and audits a stored database's connection as
// an edit would leave it (stored secrets fill what in leaves empty);
// nothing is stored. The edit dialog's test step.
func (e *Engine) CheckDatabaseChange(ctx context.Context, name string, in DatabaseInput) (*CheckResult, error) {
	_, old, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	n, err := withConnection(old, in)
	if err != nil {
		return nil, err
	}
	return check(ctx, n)
}

// withConnection is c with the connection of in; secrets in leaves empty
// keep c's.
func withConnection(c store.DatabaseConfig, in DatabaseInput) (store.DatabaseConfig, error) {
	in.Name, in.StorageNames, in.AllDatabases = c.Name, nil, c.AllDatabases
	nc, err := in.build(c)
	if err != nil {
		return c, err
	}
	keep := func(s, stored store.Secret) store.Secret {
		if s.HasValue() {
			return s
		}
		return stored
	}
	// A secret the new connection has no use for is removed, not kept.
	drop := func(s store.Secret) store.Secret {
		if s.IsSet() {
			return store.RemoveSecret()
		}
		return store.Secret{}
	}
	c.Host, c.Port, c.DBName, c.User = nc.Host, nc.Port, nc.DBName, nc.User
	c.Password = keep(nc.Password, c.Password)
	c.SSLMode, c.SSLRootCert, c.SSLCert, c.SSLKey = nc.SSLMode, nc.SSLRootCert, nc.SSLCert, nc.SSLKey
	c.SSLPassword = keep(nc.SSLPassword, c.SSLPassword)
	c.URLCommand, c.PasswordCommand = keep(nc.URLCommand, drop(c.URLCommand)), keep(nc.PasswordCommand, drop(c.PasswordCommand))
	if nc.URLCommand.IsSet() {
		c.Password, c.SSLPassword = drop(c.Password), drop(c.SSLPassword)
	} else if nc.PasswordCommand.IsSet() {
		c.Password = drop(c.Password)
	}
	if nc.SSH == nil || nc.SSH.Host == "" {
		c.SSH = nil
		return c, nil
	}
	t := *nc.SSH
	if old := c.SSH; old != nil {
		t.Password = keep(t.Password, old.Password)
		t.PrivateKey = keep(t.PrivateKey, old.PrivateKey)
		t.KeyPassphrase = keep(t.KeyPassphrase, old.KeyPassphrase)
		if t.HostKey == "" && t.Host == old.Host && t.Port == old.Port {
			t.HostKey = old.HostKey
		}
	}
	c.SSH = &t
	return c, nil
}

// InputOf is a stored database's connection (secrets withheld) as the
// input of an edit that changes only part of it: the withheld secrets and
// the credentials commands are kept.
func InputOf(d store.Database) DatabaseInput {
	return DatabaseInput{Host: d.Host, Port: d.Port, DBName: d.DBName, User: d.User, SSLMode: d.SSLMode,
		SSLRootCert: d.SSLRootCert, SSLCert: d.SSLCert, SSLKey: d.SSLKey, SSH: d.SSH,
		UseURLCommand: d.URLCommand.IsSet(), UsePasswordCommand: d.PasswordCommand.IsSet()}
}

// connectionOf is the part of c that says how the database is reached.
func connectionOf(c store.DatabaseConfig) store.DatabaseConfig {
	return store.DatabaseConfig{Host: c.Host, Port: c.Port, DBName: c.DBName, User: c.User, Password: c.Password,
		SSLMode: c.SSLMode, SSLRootCert: c.SSLRootCert, SSLCert: c.SSLCert, SSLKey: c.SSLKey, SSLPassword: c.SSLPassword, SSH: c.SSH,
		URLCommand: c.URLCommand, PasswordCommand: c.PasswordCommand}
}

// sameConnection compares two connections, secrets by value.
func sameConnection(a, b store.DatabaseConfig) bool {
	return reflect.DeepEqual(connectionOf(a), connectionOf(b))
}

// backupRunning says whether this process is backing up database id.
func (e *Engine) backupRunning(id int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.running[id]
	return ok
}

// CheckDatabase tests a stored database and audits its role again. The
// verdict is kept in its record (the status reads it): write access found
// in a role the user did not accept makes the database failing. A role
// found read-only again drops an earlier acceptance, so write access found
// later is a failure, not a note. Audited as database.checked.
func (e *Engine) CheckDatabase(ctx context.Context, name string) (*CheckResult, error) {
	d, c, err := e.database(ctx, name)
	if err != nil {
		return nil, err
	}
	chk, err := check(ctx, c)
	if err != nil {
		return nil, err
	}
	// Read it again: an edit made during the check wins, and a verdict
	// about a connection that is no longer stored is not kept.
	now, err := e.store.DatabaseCredentials(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	if !sameConnection(c, now) {
		return chk, nil
	}
	now.Verdict, now.CheckedAt = string(chk.Report.Verdict), time.Now().UTC()
	if chk.Report.Verdict != pg.VerdictWriteAccess {
		now.WriteAccepted = false
	}
	if _, err := e.store.UpdateDatabase(ctx, d.ID, now); err != nil {
		return nil, err
	}
	return chk, e.record(ctx, Event{Action: "database.checked", Target: now.Name,
		Fields: map[string]string{"id": strconv.FormatInt(d.ID, 10), "verdict": string(chk.Report.Verdict)}})
}

// SwitchToReadOnlyRole creates a read-only role with admin credentials
// typed in for this moment (never stored, never logged), as the guided
// setup does, and makes the named database connect as it: the same host,
// database, SSL and tunnel, the new role and its generated password
// (stored sealed, never shown). The new connection is tested and audited
// before it is stored; if that fails, the role exists but is not used.
func (e *Engine) SwitchToReadOnlyRole(ctx context.Context, name, adminURL, role string, opts pg.SetupOptions) (*SetupResult, *EditResult, error) {
	_, c, err := e.database(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if c.URLCommand.IsSet() {
		return nil, nil, fmt.Errorf("%s's connection comes from its credentials command: create the read-only role, then have the command print its credentials", name)
	}
	setup, err := e.SetupReadOnlyRole(ctx, adminURL, role, opts, "", nil)
	if err != nil {
		return nil, nil, err
	}
	in := DatabaseInput{Host: c.Host, Port: c.Port, DBName: c.DBName, User: setup.Plan.Role, Password: setup.Password.Reveal(),
		SSLMode: c.SSLMode, SSLRootCert: c.SSLRootCert, SSLCert: c.SSLCert, SSLKey: c.SSLKey, SSH: c.SSH}
	res, err := e.UpdateDatabase(ctx, name, DatabaseEdit{Connection: &in}, EditOptions{})
	if err != nil {
		return setup, nil, fmt.Errorf("role %s was created, but %s does not use it yet: %w", setup.Plan.Role, name, err)
	}
	return setup, res, nil
}
