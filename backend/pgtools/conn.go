package pgtools

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Conn says which database a client program (pg_dump, pg_restore, psql)
// connects to, and as whom. It reaches the program through libpq's environment
// variables, never its command line (which other users can see), and the
// password through a passfile that never touches a disk (see passSecret). Every session is read-only unless
// AllowWrite is set (restores).
type Conn struct {
	Host     string // host name, IP address, or Unix socket directory
	Port     int    // 0: libpq's default (5432)
	Database string
	User     string
	Password string // never printed: String, GoString and LogValue redact Conn

	SSLMode     string // disable, allow, prefer, require, verify-ca, verify-full ("" = libpq default)
	SSLRootCert string // CA file (verify-ca, verify-full)
	SSLCert     string // client certificate file
	SSLKey      string // client key file
	// SSLPassword is the client key's passphrase (libpq's sslpassword). It
	// reaches a client program through a service file that never touches a
	// disk where the OS allows (see newServiceSecret), never its command line
	// or environment. Never printed, like Password.
	SSLPassword string

	ConnectTimeout time.Duration // 0: 30 seconds
	// AllowWrite opens sessions without default_transaction_read_only. Only
	// restores set it, with credentials asked for at that moment.
	AllowWrite bool
}

// String names the database without the password, e.g. "app@db.example.com:5432/shop".
func (c Conn) String() string {
	port := ""
	if c.Port != 0 {
		port = ":" + strconv.Itoa(c.Port)
	}
	return fmt.Sprintf("%s@%s%s/%s", c.User, c.Host, port, c.Database)
}

// GoString keeps %#v from printing the password.
func (c Conn) GoString() string { return "pgtools.Conn(" + c.String() + ")" }

// LogValue keeps slog from printing the password.
func (c Conn) LogValue() slog.Value { return slog.StringValue(c.String()) }

// libpqVars are the environment variables that could point a client program
// somewhere else than Conn says (a service file, a user's passfile, …); they are
// removed from the environment PgSafe's child programs inherit.
func isLibpqVar(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	return strings.HasPrefix(name, "PG")
}

// environ returns the child's environment: this process's minus libpq
// variables, plus the connection's. passfile may be "".
func (c Conn) environ(passfile string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !isLibpqVar(kv) {
			env = append(env, kv)
		}
	}
	set := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	set("PGHOST", c.Host)
	if c.Port != 0 {
		set("PGPORT", strconv.Itoa(c.Port))
	}
	set("PGDATABASE", c.Database)
	set("PGUSER", c.User)
	set("PGSSLMODE", c.SSLMode)
	set("PGSSLROOTCERT", c.SSLRootCert)
	set("PGSSLCERT", c.SSLCert)
	set("PGSSLKEY", c.SSLKey)
	timeout := c.ConnectTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	set("PGCONNECT_TIMEOUT", strconv.Itoa(max(2, int(timeout.Seconds()))))
	set("PGAPPNAME", "pgsafe")
	if !c.AllowWrite {
		set("PGOPTIONS", "-c default_transaction_read_only=on")
	}
	// A passfile always, so libpq never falls back to the user's ~/.pgpass.
	if passfile == "" {
		passfile = os.DevNull
	}
	set("PGPASSFILE", passfile)
	return env
}

// escapePassfile escapes a passfile field: backslash and colon get a backslash.
func escapePassfile(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}
