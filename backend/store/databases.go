package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode"
)

// SSL modes, as libpq names them.
var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// DatabaseConfig is a PostgreSQL connection as the user entered it. All of it
// is sealed, StorageIDs (where its backups go) included; database_storages is
// an index of them, checked against the sealed list on every read.
type DatabaseConfig struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	DBName   string `json:"dbname"`
	User     string `json:"user"`
	Password Secret `json:"password"`

	SSLMode     string `json:"sslmode"`     // one of disable … verify-full; "" means prefer
	SSLRootCert string `json:"sslrootcert"` // CA certificate file
	SSLCert     string `json:"sslcert"`     // client certificate file
	SSLKey      string `json:"sslkey"`      // client key file
	SSLPassword Secret `json:"sslpassword"` // the client key's passphrase

	SSH *SSHTunnel `json:"ssh,omitempty"` // connect through an SSH bastion

	// Credentials commands (docs/DATABASES.md), sealed like passwords: run
	// before each connection, and what they print is used for that one
	// connection, never stored. URLCommand prints the whole connection (a
	// URL or key=value settings), replacing Host … SSLPassword, which are
	// then empty; PasswordCommand prints only the password.
	URLCommand      Secret `json:"url_command"`
	PasswordCommand Secret `json:"password_command"`

	CountRows bool          `json:"count_rows"` // record per-table row counts in each backup's manifest
	Timeout   time.Duration `json:"timeout"`    // per-backup time limit; 0: none

	StorageIDs []int64 `json:"storage_ids"` // storages each backup is written to

	// The newest privilege check of its role: the verdict (pg.Verdict, ""
	// when never checked) and when. WriteAccepted: the user accepted a role
	// that can change data (audited as database.write_access_accepted).
	Verdict       string    `json:"verdict,omitempty"`
	CheckedAt     time.Time `json:"checked_at,omitempty"`
	WriteAccepted bool      `json:"write_accepted,omitempty"`

	// A server entry (AllDatabases) backs up every database of its server:
	// DBName is the database it lists them from, Exclude the names it
	// skips, Parallel how many pg_dumps run at once (0 or 1: one after
	// another). Each database found is a child entry (ServerEntry).
	AllDatabases bool     `json:"all_databases,omitempty"`
	Exclude      []string `json:"exclude,omitempty"`
	Parallel     int      `json:"parallel,omitempty"`

	// ServerEntry is the id of the server entry a child belongs to (0: not
	// a child). A child stores only its name, DBName, its check and Gone:
	// its connection, storages and settings are its server entry's, read
	// from it each time (Database, DatabaseCredentials). Gone is when its
	// database was last missing from the server (zero: it is there).
	ServerEntry int64     `json:"server_entry,omitempty"`
	Gone        time.Time `json:"gone,omitempty"`
}

// MaxParallel bounds a server entry's Parallel.
const MaxParallel = 16

// SSHTunnel is an SSH bastion the database is reached through.
type SSHTunnel struct {
	Host           string `json:"host"`
	Port           int    `json:"port"` // 0 means 22
	User           string `json:"user"`
	Password       Secret `json:"password"`
	KeyPath        string `json:"key_path"`       // private key file
	PrivateKey     Secret `json:"private_key"`    // or the private key itself (PEM)
	KeyPassphrase  Secret `json:"key_passphrase"` // the private key's passphrase
	KnownHostsPath string `json:"known_hosts_path"`
	HostKey        string `json:"host_key"` // pinned host key, authorized_keys format
}

// Database is a stored connection. From Database and Databases its secrets
// are withheld: they say whether they are set, nothing more.
type Database struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	DatabaseConfig
}

var databases = entity[DatabaseConfig]{
	table:    "databases",
	noun:     "database",
	name:     func(c *DatabaseConfig) string { return c.Name },
	validate: validateDatabase,
}

func validateDatabase(c *DatabaseConfig) error {
	if err := validName("name", c.Name); err != nil {
		return err
	}
	if c.ServerEntry != 0 {
		if c.AllDatabases {
			return invalid("all_databases", "a database of a server entry cannot be a server entry")
		}
		if strings.TrimSpace(c.DBName) == "" {
			return invalid("dbname", "the database name is required")
		}
		return nil
	}
	if c.Parallel < 0 || c.Parallel > MaxParallel {
		return invalid("parallel", "%d is not between 1 and %d", c.Parallel, MaxParallel)
	}
	if !c.AllDatabases && (len(c.Exclude) > 0 || c.Parallel > 1) {
		return invalid("all_databases", "exclusions and parallel backups are for a server entry (all databases)")
	}
	for _, x := range c.Exclude {
		if strings.TrimSpace(x) == "" {
			return invalid("exclude", "an excluded database name is empty")
		}
	}
	if err := validPort("port", c.Port); err != nil {
		return err
	}
	switch {
	case c.URLCommand.IsSet():
		// The command prints host, database and user at each connection.
	case strings.TrimSpace(c.Host) == "":
		return invalid("host", "a host name, IP address or socket directory is required")
	case strings.TrimSpace(c.DBName) == "":
		return invalid("dbname", "the database name is required")
	case strings.TrimSpace(c.User) == "":
		return invalid("user", "the user name is required")
	}
	if c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode) {
		return invalid("sslmode", "%q is not an SSL mode (one of %s)", c.SSLMode, strings.Join(sslModes, ", "))
	}
	if c.Timeout < 0 {
		return invalid("timeout", "must not be negative")
	}
	if t := c.SSH; t != nil {
		if strings.TrimSpace(t.Host) == "" {
			return invalid("ssh.host", "the SSH host is required for a tunnel")
		}
		if err := validPort("ssh.port", t.Port); err != nil {
			return err
		}
		if strings.TrimSpace(t.User) == "" {
			return invalid("ssh.user", "the SSH user is required for a tunnel")
		}
		if !t.Password.IsSet() && !t.PrivateKey.IsSet() && t.KeyPath == "" {
			return invalid("ssh", "a password, a private key or a key file is required")
		}
	}
	seen := map[int64]bool{}
	for _, id := range c.StorageIDs {
		if seen[id] {
			return invalid("storage_ids", "storage %d is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// validName: non-empty, no surrounding spaces, no control characters, at most 200 bytes.
func validName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid(field, "a name is required")
	case strings.TrimSpace(name) != name:
		return invalid(field, "%q starts or ends with spaces", name)
	case len(name) > 200:
		return invalid(field, "longer than 200 bytes")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid(field, "contains control characters")
	}
	return nil
}

func validPort(field string, p int) error {
	if p < 0 || p > 65535 {
		return invalid(field, "%d is not a port (1-65535, or 0 for the default)", p)
	}
	return nil
}

// CreateDatabase stores a new connection and returns its id.
func (s *Store) CreateDatabase(ctx context.Context, c DatabaseConfig) (int64, error) {
	c = childOnly(c)
	c.SSH = cloneTunnel(c.SSH)
	c.StorageIDs = sortedIDs(c.StorageIDs)
	var id int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = databases.create(ctx, s, tx, &c); err != nil {
			return err
		}
		return s.setDatabaseStorages(ctx, tx, id, c.StorageIDs)
	})
	return id, err
}

// UpdateDatabase replaces connection id's settings with c and reports which
// fields changed. Secrets in c without a value keep the stored ones; set a new
// value to replace one, RemoveSecret() to delete it.
func (s *Store) UpdateDatabase(ctx context.Context, id int64, c DatabaseConfig) (Changes, error) {
	c = childOnly(c)
	c.SSH = cloneTunnel(c.SSH)
	c.StorageIDs = sortedIDs(c.StorageIDs)
	var changes Changes
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if changes, err = databases.update(ctx, s, tx, id, &c); err != nil {
			return err
		}
		if !slices.Contains(changes, "storage_ids") {
			return nil
		}
		return s.setDatabaseStorages(ctx, tx, id, c.StorageIDs)
	})
	return changes, err
}

// childOnly keeps of a server entry's child what its own row holds (the
// rest is its server entry's, resolveChild): a child read with its server's
// settings and written back stores no copy of them.
func childOnly(c DatabaseConfig) DatabaseConfig {
	if c.ServerEntry == 0 {
		return c
	}
	return DatabaseConfig{Name: c.Name, DBName: c.DBName, ServerEntry: c.ServerEntry, Gone: c.Gone,
		Verdict: c.Verdict, CheckedAt: c.CheckedAt}
}

// DeleteDatabase removes connection id with its schedule and retention
// policy, and a server entry's databases with it. Their backup and restore
// history stays, no longer linked to them.
func (s *Store) DeleteDatabase(ctx context.Context, id int64) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		rows, err := databases.list(ctx, s, tx, false)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Config.ServerEntry == id {
				if err := s.deleteDatabase(ctx, tx, r.ID); err != nil {
					return err
				}
			}
		}
		return s.deleteDatabase(ctx, tx, id)
	})
}

func (s *Store) deleteDatabase(ctx context.Context, tx *sql.Tx, id int64) error {
	// What the foreign keys' ON DELETE would do, done here so that every
	// bound row is unbound or bound again (integrity.go).
	for _, t := range []string{"schedules", "retention_policies", "health_checks"} {
		if _, err := s.deleteRows(ctx, tx, t, "database_id = ?", id); err != nil {
			return err
		}
	}
	for _, t := range []string{"backups", "restores"} {
		if _, err := s.updateRows(ctx, tx, t, "database_id = ?", []any{id}, "database_id = NULL"); err != nil {
			return err
		}
	}
	return databases.delete(ctx, s, tx, id)
}

// Database returns connection id, secrets withheld.
func (s *Store) Database(ctx context.Context, id int64) (Database, error) {
	var d Database
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		r, err := databases.get(ctx, s, tx, id, false)
		if err != nil {
			return err
		}
		d, err = s.database(ctx, tx, r)
		return err
	})
	return d, err
}

// DatabaseByName returns the connection named name (exact match first, then
// case-insensitive), secrets withheld.
func (s *Store) DatabaseByName(ctx context.Context, name string) (Database, error) {
	var d Database
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		r, err := databases.byName(ctx, s, tx, name, false)
		if err != nil {
			return err
		}
		d, err = s.database(ctx, tx, r)
		return err
	})
	return d, err
}

// Databases lists all connections by id, secrets withheld.
func (s *Store) Databases(ctx context.Context) ([]Database, error) {
	var out []Database
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := databases.list(ctx, s, tx, false)
		if err != nil {
			return err
		}
		for _, r := range rows {
			d, err := s.database(ctx, tx, r)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// DatabaseCredentials returns connection id with its secrets, for the engine
// to connect. Never hand the result to the UI.
func (s *Store) DatabaseCredentials(ctx context.Context, id int64) (DatabaseConfig, error) {
	var c DatabaseConfig
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		r, err := databases.get(ctx, s, tx, id, true)
		if err != nil {
			return err
		}
		if err := s.checkStorageIndex(ctx, tx, id, r.Config.StorageIDs); err != nil {
			return err
		}
		c, err = s.resolveChild(ctx, tx, r.Config, true)
		return err
	})
	return c, err
}

func (s *Store) database(ctx context.Context, q querier, r row[DatabaseConfig]) (Database, error) {
	d := Database{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DatabaseConfig: r.Config}
	if err := s.checkStorageIndex(ctx, q, r.ID, d.StorageIDs); err != nil {
		return d, err
	}
	var err error
	d.DatabaseConfig, err = s.resolveChild(ctx, q, r.Config, false)
	return d, err
}

// resolveChild is a server entry's child as it is used: its server entry's
// connection and settings with the child's own name, database, check and
// Gone. Other configs are returned as they are.
func (s *Store) resolveChild(ctx context.Context, q querier, c DatabaseConfig, secrets bool) (DatabaseConfig, error) {
	if c.ServerEntry == 0 {
		return c, nil
	}
	p, err := databases.get(ctx, s, q, c.ServerEntry, secrets)
	if err != nil {
		return c, err
	}
	if err := s.checkStorageIndex(ctx, q, p.ID, p.Config.StorageIDs); err != nil {
		return c, err
	}
	out := p.Config
	out.SSH = cloneTunnel(out.SSH)
	out.StorageIDs = slices.Clone(out.StorageIDs)
	out.Name, out.DBName, out.ServerEntry, out.Gone = c.Name, c.DBName, c.ServerEntry, c.Gone
	out.Verdict, out.CheckedAt, out.WriteAccepted = c.Verdict, c.CheckedAt, p.Config.WriteAccepted
	out.AllDatabases, out.Exclude, out.Parallel = false, nil, 0
	return out, nil
}

// ServerDatabases lists the children of server entry id, by id, resolved
// (secrets withheld).
func (s *Store) ServerDatabases(ctx context.Context, id int64) ([]Database, error) {
	all, err := s.Databases(ctx)
	if err != nil {
		return nil, err
	}
	var out []Database
	for _, d := range all {
		if d.ServerEntry == id {
			out = append(out, d)
		}
	}
	return out, nil
}

// checkStorageIndex compares database_storages with the storage IDs sealed in
// database id's record: a link row added or removed outside PgSafe (which
// would send backups elsewhere or stop an off-site copy) is reported, and the
// database not used.
func (s *Store) checkStorageIndex(ctx context.Context, q querier, id int64, sealed []int64) error {
	idx, err := s.indexedStorages(ctx, q, id)
	if err != nil {
		return err
	}
	if !slices.Equal(idx, sortedIDs(sealed)) {
		return &DamagedRowError{Path: s.path, Table: "database_storages", Row: "of database " + rowID(id)}
	}
	return nil
}

// indexedStorages reads database id's storages from database_storages.
func (s *Store) indexedStorages(ctx context.Context, q querier, id int64) ([]int64, error) {
	rs, err := q.QueryContext(ctx, "SELECT storage_id FROM database_storages WHERE database_id = ? ORDER BY storage_id", id)
	if err != nil {
		return nil, s.wrap("read a database's storages", err)
	}
	defer rs.Close()
	var ids []int64
	for rs.Next() {
		var sid int64
		if err := rs.Scan(&sid); err != nil {
			return nil, s.wrap("read a database's storages", err)
		}
		ids = append(ids, sid)
	}
	return ids, rs.Err()
}

func (s *Store) setDatabaseStorages(ctx context.Context, tx *sql.Tx, id int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM database_storages WHERE database_id = ?", id); err != nil {
		return s.wrap("set a database's storages", err)
	}
	for _, sid := range ids {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM storages WHERE id = ?", sid).Scan(&n); err != nil {
			return s.wrap("set a database's storages", err)
		}
		if n == 0 {
			return invalid("storage_ids", "no storage with id %d", sid)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO database_storages(database_id, storage_id) VALUES (?, ?)", id, sid); err != nil {
			return s.wrap("set a database's storages", err)
		}
	}
	return nil
}

func sortedIDs(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// cloneTunnel copies the tunnel so that merging secrets never writes into the
// caller's struct.
func cloneTunnel(t *SSHTunnel) *SSHTunnel {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
