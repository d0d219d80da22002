package pg

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// SSLMode is libpq's sslmode.
type SSLMode string

// The SSL modes, weakest first. The empty mode means libpq's default, prefer.
const (
	SSLDisable    SSLMode = "disable"
	SSLAllow      SSLMode = "allow"
	SSLPrefer     SSLMode = "prefer"
	SSLRequire    SSLMode = "require"
	SSLVerifyCA   SSLMode = "verify-ca"
	SSLVerifyFull SSLMode = "verify-full"
)

var sslModes = []SSLMode{SSLDisable, SSLAllow, SSLPrefer, SSLRequire, SSLVerifyCA, SSLVerifyFull}

// DefaultConnectTimeout bounds a connection attempt when Config leaves it 0.
const DefaultConnectTimeout = 10 * time.Second

// Config says which database PgSafe connects to, and as whom. Build it from
// fields or with ParseConnString. It prints as user@host:port/database: the
// password never shows.
type Config struct {
	Host     string // host name, IP address, or Unix socket directory
	Port     int    // 0: 5432
	Database string
	User     string
	Password Secret

	SSLMode     SSLMode // "" = prefer
	SSLRootCert string  // CA certificate file (verify-ca, verify-full)
	SSLCert     string  // client certificate file
	SSLKey      string  // client key file
	SSLPassword Secret  // the client key's passphrase

	ConnectTimeout time.Duration // 0: DefaultConnectTimeout
}

// connStringKeys are the settings a pasted connection string may carry. Any
// other (options, service, passfile, target_session_attrs, …) is refused:
// "options" could turn the read-only session off, and the others point
// elsewhere than the fields PgSafe stores.
var connStringKeys = []string{
	"host", "port", "dbname", "user", "password",
	"sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword",
	"connect_timeout", "application_name",
}

// ParseConnString reads a pasted connection string: a postgres:// (or
// postgresql://) URI or a libpq key=value string. pgx parses it as libpq
// would, with libpq's defaults for what the string leaves out (PGHOST, PGUSER,
// …, and the password from ~/.pgpass when the string has none). Errors never
// quote the string, which may hold a password.
func ParseConnString(s string) (Config, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Config{}, errors.New("the connection string is empty: paste a postgres:// URL or host=… dbname=… user=… settings")
	}
	settings, err := connSettings(s)
	if err != nil {
		return Config{}, err
	}
	for k := range settings {
		if !slices.Contains(connStringKeys, k) {
			return Config{}, fmt.Errorf("the connection string sets %q, which PgSafe does not accept: remove it (PgSafe takes %s)", k, strings.Join(connStringKeys, ", "))
		}
	}
	if h := settings["host"]; strings.Contains(h, ",") {
		return Config{}, errors.New("the connection string names several hosts: PgSafe connects to one server, give only one host")
	}
	if p, ok := settings["port"]; ok {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Config{}, errors.New("the connection string's port is not a number from 1 to 65535")
		}
	}
	mode := SSLMode(settings["sslmode"])
	if mode != "" && !slices.Contains(sslModes, mode) {
		return Config{}, fmt.Errorf("the connection string's sslmode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", mode)
	}
	pc, err := pgconn.ParseConfigWithOptions(s, pgconn.ParseConfigOptions{ConnStringAllowedKeys: connStringKeys})
	if err != nil {
		return Config{}, parseError(err)
	}
	cfg := Config{
		Host:           pc.Host,
		Port:           int(pc.Port),
		Database:       pc.Database,
		User:           pc.User,
		Password:       NewSecret(pc.Password),
		SSLMode:        mode,
		SSLRootCert:    settings["sslrootcert"],
		SSLCert:        settings["sslcert"],
		SSLKey:         settings["sslkey"],
		SSLPassword:    NewSecret(settings["sslpassword"]),
		ConnectTimeout: pc.ConnectTimeout,
	}
	return cfg, cfg.Validate()
}

// parseError explains a pgx parse failure without its text, which quotes the
// connection string (redacted only on a best-effort basis).
func parseError(err error) error {
	msg := "the connection string is not valid: check its form, e.g. postgres://user:password@host:5432/dbname?sslmode=require or host=… port=5432 dbname=… user=…"
	switch s := err.Error(); {
	case strings.Contains(s, "failed to configure TLS"):
		msg = "the SSL settings cannot be used: check that sslrootcert, sslcert and sslkey name readable certificate and key files (and sslpassword opens the key)"
	case strings.Contains(s, "invalid connect_timeout"):
		msg = "connect_timeout is not a whole number of seconds"
	}
	return errors.New(msg)
}

// Validate checks the fields that must be set and the SSL mode.
func (c Config) Validate() error {
	switch {
	case strings.TrimSpace(c.Host) == "":
		return errors.New("the host is empty: give the server's host name or IP address")
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("the port %d is not a number from 1 to 65535", c.Port)
	case strings.TrimSpace(c.Database) == "":
		return errors.New("the database name is empty")
	case strings.TrimSpace(c.User) == "":
		return errors.New("the user name is empty")
	case c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode):
		return fmt.Errorf("sslmode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", c.SSLMode)
	case (c.SSLCert == "") != (c.SSLKey == ""):
		return errors.New("a client certificate needs both its certificate file (sslcert) and its key file (sslkey)")
	}
	return nil
}

// port is the port to use, 5432 when unset.
func (c Config) port() int {
	if c.Port == 0 {
		return 5432
	}
	return c.Port
}

// Addr is host:port (or the socket directory and port).
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.port())) }

// String names the connection without secrets: user@host:port/database.
func (c Config) String() string { return fmt.Sprintf("%s@%s/%s", c.User, c.Addr(), c.Database) }

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "pg.Config(" + c.String() + ")" }

// Format prints String for every verb, so no verb can reach the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue keeps slog from printing the password.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// WithUser returns the same connection as another role.
func (c Config) WithUser(user string, password Secret) Config {
	c.User, c.Password = user, password
	return c
}

func (c Config) timeout() time.Duration {
	if c.ConnectTimeout <= 0 {
		return DefaultConnectTimeout
	}
	return c.ConnectTimeout
}

// PgxConfig returns the pgx configuration of a read-only session:
// default_transaction_read_only=on, application_name=pgsafe, no "options".
func (c Config) PgxConfig() (*pgx.ConnConfig, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var kv []string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, k+"="+quoteConnValue(v))
		}
	}
	add("host", c.Host)
	add("port", strconv.Itoa(c.port()))
	add("dbname", c.Database)
	add("user", c.User)
	add("sslmode", string(c.SSLMode))
	add("sslrootcert", c.SSLRootCert)
	add("sslcert", c.SSLCert)
	add("sslkey", c.SSLKey)
	add("sslpassword", c.SSLPassword.Reveal())
	add("connect_timeout", strconv.Itoa(max(1, int(c.timeout().Round(time.Second).Seconds()))))
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("connection settings of %s: %w", c, parseError(err))
	}
	cfg.ConnectTimeout = c.timeout()
	cfg.Password = c.Password.Reveal()
	delete(cfg.RuntimeParams, "options")
	cfg.RuntimeParams["application_name"] = "pgsafe"
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	return cfg, nil
}

// ToolConn is the same connection for PostgreSQL's client programs
// (pg_dump), read-only as well.
func (c Config) ToolConn() pgtools.Conn {
	return pgtools.Conn{
		Host: c.Host, Port: c.Port, Database: c.Database, User: c.User,
		Password: c.Password.Reveal(),
		SSLMode:  string(c.SSLMode), SSLRootCert: c.SSLRootCert, SSLCert: c.SSLCert, SSLKey: c.SSLKey,
		SSLPassword:    c.SSLPassword.Reveal(),
		ConnectTimeout: c.ConnectTimeout,
	}
}

// quoteConnValue quotes a libpq key=value value.
func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
