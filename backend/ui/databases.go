package ui

import (
	"context"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// DatabaseService is the Databases screens and the Add database wizard.
type DatabaseService struct {
	core *Core

	// checks are the connection checks under way (one per database, and
	// NewDatabaseCheck for the add wizard's), so the window can cancel a
	// check that hangs on an unreachable host.
	mu     sync.Mutex
	checks map[string]context.CancelFunc
}

// NewDatabaseService returns the service bound as DatabaseService.
func NewDatabaseService(c *Core) *DatabaseService {
	return &DatabaseService{core: c, checks: map[string]context.CancelFunc{}}
}

// DatabaseForm is the wizard's connection step: a pasted URL, or fields.
// The password is write-only: it goes in, it never comes back.
type DatabaseForm struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	DBName   string `json:"dbname"`
	User     string `json:"user"`
	Password string `json:"password"`
	SSLMode  string `json:"sslmode"`
	// Certificate files (verify-ca / verify-full; client certificates).
	SSLRootCert string   `json:"sslRootCert"`
	SSLCert     string   `json:"sslCert"`
	SSLKey      string   `json:"sslKey"`
	Storages    []string `json:"storages"`
	CountRows   bool     `json:"countRows"`
	// ImportRef: the pg_service.conf / ~/.pgpass entry the form was filled
	// from; its password is used (on the Go side) when none is typed.
	ImportRef string   `json:"importRef"`
	SSH       *SSHForm `json:"ssh"`
	// AllDatabases: back up every database of this server (a server
	// entry), but Exclude.
	AllDatabases bool     `json:"allDatabases"`
	Exclude      []string `json:"exclude"`
	// Credentials commands, write-only like the password: urlCommand prints
	// the whole connection before each use (the fields are then not read),
	// passwordCommand only the password. In an edit, an empty command with
	// its use… flag on keeps the stored one; the flag off removes it.
	URLCommand         string `json:"urlCommand"`
	PasswordCommand    string `json:"passwordCommand"`
	UseURLCommand      bool   `json:"useUrlCommand"`
	UsePasswordCommand bool   `json:"usePasswordCommand"`
}

// SSHForm is the optional SSH bastion. Secrets go in, never come back.
type SSHForm struct {
	Host          string `json:"host"`
	Port          int    `json:"port"`
	User          string `json:"user"`
	Password      string `json:"password"`
	KeyPath       string `json:"keyPath"`
	KeyPassphrase string `json:"keyPassphrase"`
	// HostKey is the bastion's key the user checked and trusts (from SSHHostKey).
	HostKey string `json:"hostKey"`
}

func (f DatabaseForm) input() engine.DatabaseInput {
	in := engine.DatabaseInput{Name: f.Name, URL: f.URL, Host: f.Host, Port: f.Port, DBName: f.DBName, User: f.User,
		Password: f.Password, SSLMode: f.SSLMode, SSLRootCert: f.SSLRootCert, SSLCert: f.SSLCert, SSLKey: f.SSLKey, StorageNames: f.Storages, CountRows: f.CountRows, ImportRef: f.ImportRef,
		AllDatabases: f.AllDatabases, Exclude: f.Exclude,
		URLCommand: f.URLCommand, PasswordCommand: f.PasswordCommand, UseURLCommand: f.UseURLCommand, UsePasswordCommand: f.UsePasswordCommand}
	if f.SSH != nil && f.SSH.Host != "" {
		t := f.SSH.tunnel()
		in.SSH = &t
	}
	return in
}

func (f SSHForm) tunnel() store.SSHTunnel { return engine.SSHInput(f).Tunnel() }

// ImportCandidates lists connections from the user's pg_service.conf and
// ~/.pgpass (no passwords), to fill the wizard's fields.
func (s *DatabaseService) ImportCandidates() ([]pg.Candidate, error) {
	c, err := engine.ImportCandidates()
	if c == nil {
		c = []pg.Candidate{}
	}
	return c, err
}

// HostKey is an SSH bastion's host key, for the user to check before trusting it.
type HostKey struct {
	Fingerprint string `json:"fingerprint"` // SHA256:…
	Key         string `json:"key"`         // to send back as SSHForm.HostKey once trusted
}

// SSHHostKey reads the bastion's host key (without logging in).
func (s *DatabaseService) SSHHostKey(f SSHForm) (*HostKey, error) {
	hk, err := engine.SSHHostKey(context.Background(), f.tunnel())
	if err != nil {
		return nil, err
	}
	return &HostKey{Fingerprint: hk.Fingerprint, Key: hk.Key}, nil
}

// DatabaseView is a stored database as the UI lists it: no secrets.
type DatabaseView struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Host        string  `json:"host"`
	Port        int     `json:"port"`
	DBName      string  `json:"dbname"`
	User        string  `json:"user"`
	PasswordSet bool    `json:"passwordSet"`
	SSLMode     string  `json:"sslmode"`
	SSH         bool    `json:"ssh"`
	CountRows   bool    `json:"countRows"`
	StorageIDs  []int64 `json:"storageIds"`
	// A server entry backs up every database of its server but Exclude,
	// Parallel at once; each database is an entry whose ServerEntry is the
	// server entry's id, Gone when it is no longer on the server.
	AllDatabases bool       `json:"allDatabases"`
	Exclude      []string   `json:"exclude"`
	Parallel     int        `json:"parallel"`
	ServerEntry  int64      `json:"serverEntry"`
	Gone         *time.Time `json:"gone"`
	// The connection (or only the password) comes from a credentials
	// command, run at each use; host, database and user are then empty.
	URLCommandSet      bool `json:"urlCommandSet"`
	PasswordCommandSet bool `json:"passwordCommandSet"`
}

func databaseView(d store.Database) DatabaseView {
	v := DatabaseView{ID: d.ID, Name: d.Name, Host: d.Host, Port: d.Port, DBName: d.DBName, User: d.User,
		PasswordSet: d.Password.IsSet(), SSLMode: d.SSLMode, SSH: d.SSH != nil && d.SSH.Host != "", CountRows: d.CountRows,
		StorageIDs: d.StorageIDs, AllDatabases: d.AllDatabases, Exclude: d.Exclude, Parallel: d.Parallel, ServerEntry: d.ServerEntry,
		URLCommandSet: d.URLCommand.IsSet(), PasswordCommandSet: d.PasswordCommand.IsSet()}
	if v.Exclude == nil {
		v.Exclude = []string{}
	}
	if !d.Gone.IsZero() {
		g := d.Gone
		v.Gone = &g
	}
	return v
}

// List returns the stored databases.
func (s *DatabaseService) List() ([]DatabaseView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	dbs, err := e.Databases(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]DatabaseView, len(dbs))
	for i, d := range dbs {
		out[i] = databaseView(d)
	}
	return out, nil
}

// Test connects with the form's credentials and runs the read-only audit
// (the wizard's second step); nothing is stored.
func (s *DatabaseService) Test(f DatabaseForm) (*engine.CheckResult, error) {
	var res *engine.CheckResult
	err := s.checking(NewDatabaseCheck, func(ctx context.Context) (err error) {
		res, err = engine.CheckInput(ctx, f.input())
		return err
	})
	return res, err
}

// NewDatabaseCheck is the name CancelCheck takes to stop the add wizard's
// test of a database not saved yet (no saved database has an empty name).
const NewDatabaseCheck = ""

// Add stores the database after checking it again. allowWriteAccess is the
// switch the user flips to proceed with a role that can write (audited).
func (s *DatabaseService) Add(f DatabaseForm, allowWriteAccess bool) (*engine.AddResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	return e.AddDatabase(context.Background(), f.input(), engine.AddOptions{AllowWriteAccess: allowWriteAccess})
}

// Remove removes a database (its backups stay in the storages).
func (s *DatabaseService) Remove(name string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.RemoveDatabase(context.Background(), name)
}

// Check re-runs the connection test and read-only audit of a stored database.
func (s *DatabaseService) Check(name string) (*engine.CheckResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	return e.CheckDatabase(context.Background(), name)
}

// RoleSetupForm is the guided read-only role step: admin credentials typed in
// for this moment only.
type RoleSetupForm struct {
	AdminURL           string   `json:"adminUrl"`
	Role               string   `json:"role"`
	SaveAs             string   `json:"saveAs"` // the database entry to create with the new role
	Storages           []string `json:"storages"`
	PerSchema          bool     `json:"perSchema"`
	RevokePublicTemp   bool     `json:"revokePublicTemp"`
	RevokePublicCreate bool     `json:"revokePublicCreate"`
}

func (f RoleSetupForm) options() pg.SetupOptions {
	return pg.SetupOptions{PerSchema: f.PerSchema, RevokePublicTemp: f.RevokePublicTemp, RevokePublicCreate: f.RevokePublicCreate}
}

// RolePlan is the SQL for review (to copy, or to run with RunRoleSetup).
type RolePlan struct {
	SQL        string   `json:"sql"`
	Method     string   `json:"method"`
	Notes      []string `json:"notes"`
	WriteRisks []string `json:"writeRisks"`
}

// PlanRoleSetup returns the SQL that creates a read-only role.
func (s *DatabaseService) PlanRoleSetup(f RoleSetupForm) (*RolePlan, error) {
	p, err := engine.PlanRole(context.Background(), f.AdminURL, f.Role, f.options())
	if err != nil {
		return nil, err
	}
	return &RolePlan{SQL: p.SQL, Method: p.Method, Notes: p.Notes, WriteRisks: p.WriteRisks}, nil
}

// RoleSetupResult is a created role; its password is not returned (PgSafe
// stored it, sealed, in the new database entry).
type RoleSetupResult struct {
	Role   string            `json:"role"`
	Report pg.Report         `json:"report"`
	Added  *engine.AddResult `json:"added,omitempty"`
}

// RunRoleSetup creates the role with the admin credentials (used once, never
// stored) and stores the new role's credentials as database SaveAs.
func (s *DatabaseService) RunRoleSetup(f RoleSetupForm) (*RoleSetupResult, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	res, err := e.SetupReadOnlyRole(context.Background(), f.AdminURL, f.Role, f.options(), f.SaveAs, f.Storages)
	if err != nil {
		return nil, err
	}
	return &RoleSetupResult{Role: res.Role, Report: res.Report, Added: res.Added}, nil
}

// Status is every database's state, computed by the engine from what is
// recorded: the same as `pgsafe status`.
func (s *DatabaseService) Status() ([]StatusView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	o, err := e.Status(context.Background(), "")
	if err != nil {
		return nil, err
	}
	out := []StatusView{}
	for _, d := range o.Databases {
		out = append(out, statusView(d))
	}
	return out, nil
}
