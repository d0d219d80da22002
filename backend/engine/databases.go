package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
	"github.com/pgsafe/pgsafe/backend/tunnel"
)

// DatabaseInput is a database as the user enters it: a pasted connection
// string (URL), or fields. A password in the URL counts as typed.
type DatabaseInput struct {
	Name     string
	URL      string // postgres:// URI or key=value string; overrides the fields below
	Host     string
	Port     int
	DBName   string
	User     string
	Password string
	SSLMode  string
	// Certificate files for verify-ca / verify-full and client certificates.
	SSLRootCert, SSLCert, SSLKey string

	// ImportRef names a connection of the user's pg_service.conf or ~/.pgpass
	// (pg.ImportCandidates); its settings fill what the fields leave empty, and
	// its password is used when none is typed.
	ImportRef string

	SSH          *store.SSHTunnel
	StorageNames []string
	CountRows    bool

	// AllDatabases makes a server entry: every database of the server is
	// backed up (DBName is the one they are listed from), but Exclude;
	// Parallel of them at once (0: one after another).
	AllDatabases bool
	Exclude      []string
	Parallel     int
	// Credentials commands (docs/DATABASES.md): URLCommand prints the whole
	// connection at each use (URL and the fields above are then not read),
	// PasswordCommand only the password. Use…: the face's choice; in an edit,
	// a command left empty with its Use flag on keeps the stored one, and a
	// Use flag off removes it. A command typed implies its Use flag.
	URLCommand         string
	PasswordCommand    string
	UseURLCommand      bool
	UsePasswordCommand bool
}

// AddOptions are the choices `pgsafe db add` and the wizard offer.
type AddOptions struct {
	NoCheck          bool // skip the connection test and read-only audit
	AllowWriteAccess bool // accept a role that can write (audited)
}

// AddResult is a database that was added, with what the checks found.
type AddResult struct {
	ID     int64          `json:"id"`
	Server *pg.ServerInfo `json:"server,omitempty"`
	Report *pg.Report     `json:"report,omitempty"`
}

// WriteAccessError: the role can change data and the user did not accept it.
type WriteAccessError struct{ Report pg.Report }

func (e *WriteAccessError) Error() string {
	var codes []string
	for _, f := range e.Report.Findings {
		if f.Severity == pg.SeverityWrite {
			codes = append(codes, f.Object+" ("+f.Code+")")
		}
	}
	return fmt.Sprintf("the role %s can change data (%s): PgSafe needs read access only. Use a read-only role, or accept write access explicitly",
		e.Report.Role, strings.Join(codes, "; "))
}

// config turns input into a store config.
func (in DatabaseInput) config() (store.DatabaseConfig, error) {
	return in.build(store.DatabaseConfig{})
}

// build turns input into a store config; stored's credentials commands are
// kept where the input asks (an edit).
func (in DatabaseInput) build(stored store.DatabaseConfig) (store.DatabaseConfig, error) {
	urlCmd, pwCmd, err := in.commandsOf(stored)
	if err != nil {
		return store.DatabaseConfig{}, err
	}
	if urlCmd.IsSet() {
		if in.URL != "" || in.ImportRef != "" {
			return store.DatabaseConfig{}, errors.New("give either a connection URL or a command that prints it, not both")
		}
		// Everything else of the connection comes from the command.
		return store.DatabaseConfig{Name: in.Name, SSH: in.SSH, CountRows: in.CountRows, AllDatabases: in.AllDatabases, Exclude: in.Exclude, Parallel: in.Parallel,
			URLCommand: urlCmd, PasswordCommand: pwCmd}, nil
	}
	c, err := in.fields()
	c.PasswordCommand = pwCmd
	if pwCmd.IsSet() {
		c.Password = store.Secret{} // the command's, at each connection
	}
	return c, err
}

// fields is the connection the input's URL, fields and import give.
func (in DatabaseInput) fields() (store.DatabaseConfig, error) {
	c := store.DatabaseConfig{Name: in.Name, Host: in.Host, Port: in.Port, DBName: in.DBName, User: in.User,
		Password: store.NewSecret(in.Password), SSLMode: in.SSLMode, SSLRootCert: in.SSLRootCert, SSLCert: in.SSLCert, SSLKey: in.SSLKey,
		SSH: in.SSH, CountRows: in.CountRows, AllDatabases: in.AllDatabases, Exclude: in.Exclude, Parallel: in.Parallel}
	if in.URL != "" {
		p, err := pg.ParseConnString(in.URL)
		if err != nil {
			return c, err
		}
		c.Host, c.Port, c.DBName, c.User = p.Host, p.Port, p.Database, p.User
		c.Password = store.NewSecret(p.Password.Reveal())
		c.SSLMode, c.SSLRootCert, c.SSLCert, c.SSLKey = string(p.SSLMode), p.SSLRootCert, p.SSLCert, p.SSLKey
		c.SSLPassword = store.NewSecret(p.SSLPassword.Reveal())
	}
	if in.ImportRef != "" {
		p, err := pg.ResolveCandidate(in.ImportRef)
		if err != nil {
			return c, err
		}
		fill := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		fill(&c.Host, p.Host)
		fill(&c.DBName, p.Database)
		fill(&c.User, p.User)
		fill(&c.SSLMode, string(p.SSLMode))
		fill(&c.SSLRootCert, p.SSLRootCert)
		fill(&c.SSLCert, p.SSLCert)
		fill(&c.SSLKey, p.SSLKey)
		if c.Port == 0 {
			c.Port = p.Port
		}
		if !c.Password.HasValue() {
			c.Password = store.NewSecret(p.Password.Reveal())
		}
	}
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.AllDatabases && c.DBName == "" {
		c.DBName = "postgres" // the database the server's databases are listed from
	}
	return c, nil
}

// pgConfig is the pg connection of a stored config (with its secrets).
func pgConfig(c store.DatabaseConfig) pg.Config {
	return pg.Config{Host: c.Host, Port: c.Port, Database: c.DBName, User: c.User, Password: pg.NewSecret(c.Password.Reveal()),
		SSLMode: pg.SSLMode(c.SSLMode), SSLRootCert: c.SSLRootCert, SSLCert: c.SSLCert, SSLKey: c.SSLKey,
		SSLPassword: pg.NewSecret(c.SSLPassword.Reveal())}
}

// connect returns the connection settings for c, its credentials command
// run (resolve), through its SSH tunnel if it has one; call closeFn when
// done.
func connect(ctx context.Context, c store.DatabaseConfig) (cfg pg.Config, closeFn func(), err error) {
	if c, err = resolve(ctx, c); err != nil {
		return cfg, nil, err
	}
	cfg = pgConfig(c)
	if c.SSH == nil || c.SSH.Host == "" {
		return cfg, func() {}, nil
	}
	t, err := tunnel.Open(ctx, tunnelConfig(*c.SSH), c.Host, cfg.Port)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Host, cfg.Port = t.Host, t.Port
	return cfg, func() { t.Close() }, nil
}

// CheckResult is a connection test and read-only audit.
type CheckResult struct {
	Server pg.ServerInfo `json:"server"`
	Report pg.Report     `json:"report"`
	// Target is the connection checked, without its password
	// (user@host:port/database), for a face's report.
	Target string `json:"-"`
}

// check tests the connection and audits the role's privileges.
func check(ctx context.Context, c store.DatabaseConfig) (*CheckResult, error) {
	c, err := resolve(ctx, c)
	if err != nil {
		return nil, err
	}
	cfg, closeFn, err := connect(ctx, c)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	info, err := pg.Test(ctx, cfg)
	if err != nil {
		return nil, err
	}
	conn, err := pg.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rep, err := pg.Audit(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("read-only audit of %s: %w", cfg, err)
	}
	return &CheckResult{Server: info, Report: rep, Target: pgConfig(c).String()}, nil
}

// CheckInput tests and audits a database that is not stored (the wizard's
// "test" step, `pgsafe db check --url`).
func CheckInput(ctx context.Context, in DatabaseInput) (*CheckResult, error) {
	c, err := in.config()
	if err != nil {
		return nil, err
	}
	return check(ctx, c)
}

// storageIDs looks storages up by name.
func (e *Engine) storageIDs(ctx context.Context, names []string) ([]int64, error) {
	var ids []int64
	for _, name := range names {
		s, err := e.store.StorageByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("storage", name)
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// AddDatabase checks and stores a database. Warnings are accepted; write
// access is refused unless opts.AllowWriteAccess, which is audited.
func (e *Engine) AddDatabase(ctx context.Context, in DatabaseInput, opts AddOptions) (*AddResult, error) {
	c, err := in.config()
	if err != nil {
		return nil, err
	}
	if c.StorageIDs, err = e.storageIDs(ctx, in.StorageNames); err != nil {
		return nil, err
	}
	res := &AddResult{}
	if !opts.NoCheck {
		chk, err := check(ctx, c)
		if err != nil {
			return nil, err
		}
		res.Server, res.Report = &chk.Server, &chk.Report
		c.Verdict, c.CheckedAt = string(chk.Report.Verdict), time.Now().UTC()
		if chk.Report.Verdict == pg.VerdictWriteAccess {
			if !opts.AllowWriteAccess {
				e.record(ctx, Event{Action: "database.write_access_refused", Outcome: "denied", Target: c.Name})
				return res, &WriteAccessError{Report: chk.Report}
			}
			c.WriteAccepted = true
		}
	}
	id, err := e.store.CreateDatabase(ctx, c)
	if err != nil {
		return nil, err
	}
	res.ID = id
	fields := map[string]string{"id": strconv.FormatInt(id, 10), "checked": strconv.FormatBool(!opts.NoCheck)}
	if res.Report != nil {
		fields["verdict"] = string(res.Report.Verdict)
	}
	if err := e.record(ctx, Event{Action: "database.created", Target: c.Name, Fields: fields}); err != nil {
		return nil, err
	}
	if res.Report != nil && res.Report.Verdict == pg.VerdictWriteAccess {
		if err := e.record(ctx, Event{Action: "database.write_access_accepted", Target: c.Name, Fields: map[string]string{"id": fields["id"]},
			Message: "the user accepted a role that can change data"}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Databases lists the stored databases (secrets withheld).
func (e *Engine) Databases(ctx context.Context) ([]store.Database, error) {
	return e.store.Databases(ctx)
}

// database finds a database by name, with its secrets.
func (e *Engine) database(ctx context.Context, name string) (store.Database, store.DatabaseConfig, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return d, store.DatabaseConfig{}, notFound("db", name)
	}
	if err != nil {
		return d, store.DatabaseConfig{}, err
	}
	c, err := e.store.DatabaseCredentials(ctx, d.ID)
	return d, c, err
}

// RemoveDatabase removes a database from PgSafe (its backups stay in the
// storages and in the history).
func (e *Engine) RemoveDatabase(ctx context.Context, name string) error {
	d, _, err := e.database(ctx, name)
	if err != nil {
		return err
	}
	children, err := e.store.ServerDatabases(ctx, d.ID)
	if err != nil {
		return err
	}
	if err := e.store.DeleteDatabase(ctx, d.ID); err != nil {
		return err
	}
	for _, c := range children { // removed with their server entry
		if err := e.record(ctx, Event{Action: "database.deleted", Target: c.Name, Fields: map[string]string{"id": strconv.FormatInt(c.ID, 10), "server": name}}); err != nil {
			return err
		}
	}
	return e.record(ctx, Event{Action: "database.deleted", Target: name, Fields: map[string]string{"id": strconv.FormatInt(d.ID, 10)}})
}

// ImportCandidates lists the connections of the user's pg_service.conf and
// ~/.pgpass, without passwords.
func ImportCandidates() ([]pg.Candidate, error) { return pg.ImportCandidates() }

// SSHHostKey connects to an SSH bastion only to read its host key, so the
// user can check its fingerprint before PgSafe trusts it.
func SSHHostKey(ctx context.Context, t store.SSHTunnel) (*tunnel.HostKeyError, error) {
	return tunnel.FetchHostKey(ctx, tunnelConfig(t))
}

func tunnelConfig(t store.SSHTunnel) tunnel.Config {
	return tunnel.Config{Host: t.Host, Port: t.Port, User: t.User, Password: t.Password.Reveal(),
		PrivateKey: []byte(t.PrivateKey.Reveal()), KeyPath: t.KeyPath, KeyPassphrase: t.KeyPassphrase.Reveal(),
		HostKey: t.HostKey, KnownHostsPath: t.KnownHostsPath}
}
