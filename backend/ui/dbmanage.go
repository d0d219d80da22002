package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The database page's Manage section: edit the connection, re-check the
// role, rename, row counts, remove (Remove and Check are in databases.go).

// ConnectionView is a stored database's connection as the edit form needs
// it. Secrets are write-only: it says whether each is set, never what.
type ConnectionView struct {
	Name        string           `json:"name"`
	Host        string           `json:"host"`
	Port        int              `json:"port"`
	DBName      string           `json:"dbname"`
	User        string           `json:"user"`
	PasswordSet bool             `json:"passwordSet"`
	SSLMode     string           `json:"sslmode"`
	SSLRootCert string           `json:"sslRootCert"`
	SSLCert     string           `json:"sslCert"`
	SSLKey      string           `json:"sslKey"`
	SSH         *SSHConnection   `json:"ssh"`
	CountRows   bool             `json:"countRows"`
	Storages    []string         `json:"storages"`
	Verdict     string           `json:"verdict"`   // the newest privilege check's pg.Verdict; "" never checked
	CheckedAt   *time.Time       `json:"checkedAt"` // nil: never checked
	WriteAccess WriteAccessState `json:"writeAccess"`
	// Credentials commands: set or not, never what they are.
	URLCommandSet      bool `json:"urlCommandSet"`
	PasswordCommandSet bool `json:"passwordCommandSet"`
}

// WriteAccessState: whether its role can change data, and whether the user
// accepted that: "" (no), "accepted", "found" (not accepted: failing).
type WriteAccessState string

// SSHConnection is the stored SSH bastion, secrets withheld.
type SSHConnection struct {
	Host             string `json:"host"`
	Port             int    `json:"port"`
	User             string `json:"user"`
	KeyPath          string `json:"keyPath"`
	HostKey          string `json:"hostKey"`
	PasswordSet      bool   `json:"passwordSet"`
	KeyPassphraseSet bool   `json:"keyPassphraseSet"`
}

func connectionView(d store.Database, storages []string) ConnectionView {
	v := ConnectionView{Name: d.Name, Host: d.Host, Port: d.Port, DBName: d.DBName, User: d.User, PasswordSet: d.Password.IsSet(),
		SSLMode: d.SSLMode, SSLRootCert: d.SSLRootCert, SSLCert: d.SSLCert, SSLKey: d.SSLKey, CountRows: d.CountRows,
		Storages: storages, Verdict: d.Verdict, URLCommandSet: d.URLCommand.IsSet(), PasswordCommandSet: d.PasswordCommand.IsSet()}
	if v.Storages == nil {
		v.Storages = []string{}
	}
	if !d.CheckedAt.IsZero() {
		at := d.CheckedAt
		v.CheckedAt = &at
	}
	v.WriteAccess = WriteAccessState(engine.WriteAccessOf(d))
	if t := d.SSH; t != nil && t.Host != "" {
		v.SSH = &SSHConnection{Host: t.Host, Port: t.Port, User: t.User, KeyPath: t.KeyPath, HostKey: t.HostKey,
			PasswordSet: t.Password.IsSet(), KeyPassphraseSet: t.KeyPassphrase.IsSet()}
	}
	return v
}

// Connection is the named database's stored connection, without secrets.
func (s *DatabaseService) Connection(name string) (*ConnectionView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	dbs, err := e.Databases(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range dbs {
		if d.Name != name {
			continue
		}
		names, err := e.StorageNamesOf(ctx, d.StorageIDs)
		if err != nil {
			return nil, err
		}
		v := connectionView(d, names)
		return &v, nil
	}
	return nil, errors.New("no database named " + name + ": it may have been renamed or removed")
}

// checking runs fn with a context CancelCheck(name) ends.
func (s *DatabaseService) checking(name string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	if prev := s.checks[name]; prev != nil {
		prev()
	}
	s.checks[name] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.checks, name)
		s.mu.Unlock()
		cancel()
	}()
	err := fn(ctx)
	if ctx.Err() != nil && err != nil {
		return errors.New("cancelled: nothing was changed")
	}
	return err
}

// CancelCheck stops the named database's connection check (TestChange,
// Update, Recheck; NewDatabaseCheck: the add wizard's Test); nothing is
// changed.
func (s *DatabaseService) CancelCheck(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.checks[name]; c != nil {
		c()
	}
}

// editInput is the form's connection: an empty password (or SSH secret)
// keeps the stored one.
func editInput(f DatabaseForm) engine.DatabaseInput {
	in := f.input()
	in.Name, in.StorageNames, in.ImportRef = "", nil, ""
	return in
}

// TestChange connects with the edited connection (stored secrets fill what
// the form leaves empty) and runs the read-only audit; nothing is stored.
func (s *DatabaseService) TestChange(name string, f DatabaseForm) (*engine.CheckResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	var res *engine.CheckResult
	err = s.checking(name, func(ctx context.Context) (err error) {
		res, err = e.CheckDatabaseChange(ctx, name, editInput(f))
		return err
	})
	return res, err
}

// Recheck re-runs the connection test and privilege audit of the stored
// database (cancellable with CancelCheck); the verdict is kept, so the
// database's state follows it.
func (s *DatabaseService) Recheck(name string) (*engine.CheckResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	var res *engine.CheckResult
	err = s.checking(name, func(ctx context.Context) (err error) {
		res, err = e.CheckDatabase(ctx, name)
		return err
	})
	return res, err
}

// EditResult is a saved edit: the fields that changed (names only) and,
// when the connection changed, what its checks found.
type EditResult = engine.EditResult

// Update saves the edited connection after testing it and auditing the
// role again, as adding does. allowWriteAccess is the switch the user flips
// to keep a role that can change data (audited).
func (s *DatabaseService) Update(name string, f DatabaseForm, allowWriteAccess bool) (*EditResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	in := editInput(f)
	var res *EditResult
	err = s.checking(name, func(ctx context.Context) (err error) {
		res, err = e.UpdateDatabase(ctx, name, engine.DatabaseEdit{Connection: &in}, engine.EditOptions{AllowWriteAccess: allowWriteAccess})
		return err
	})
	return res, err
}

// Rename gives the database a new name; its schedule, history and policies
// follow.
func (s *DatabaseService) Rename(name, newName string) (*EditResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	newName = strings.TrimSpace(newName)
	if newName == "" {
		return nil, errors.New("give the database a name")
	}
	return e.UpdateDatabase(context.Background(), name, engine.DatabaseEdit{Name: newName}, engine.EditOptions{})
}

// SetCountRows switches per-table row counts at backup time on or off.
func (s *DatabaseService) SetCountRows(name string, on bool) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	_, err = e.UpdateDatabase(context.Background(), name, engine.DatabaseEdit{CountRows: &on}, engine.EditOptions{})
	return err
}

// SwitchResult is a database switched to a new read-only role: the role's
// own audit and the saved edit. The role's password is not returned.
type SwitchResult struct {
	Role   string      `json:"role"`
	Report pg.Report   `json:"report"`
	Edit   *EditResult `json:"edit"`
}

// SwitchToReadOnlyRole creates a read-only role with the admin URL (used
// once, never stored) and makes the database connect as it.
func (s *DatabaseService) SwitchToReadOnlyRole(name string, f RoleSetupForm) (*SwitchResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	setup, edit, err := e.SwitchToReadOnlyRole(context.Background(), name, f.AdminURL, f.Role, f.options())
	if err != nil {
		return nil, err
	}
	return &SwitchResult{Role: setup.Role, Report: setup.Report, Edit: edit}, nil
}
