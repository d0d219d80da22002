package pgtools

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PgxConfig returns a pgx configuration for the same connection the client
// programs make, read-only unless AllowWrite. pgx parses the libpq settings
// (sslmode and certificate files) exactly as libpq does.
func (c Conn) PgxConfig() (*pgx.ConnConfig, error) {
	var kv []string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, k+"="+quoteConnValue(v))
		}
	}
	add("host", c.Host)
	if c.Port != 0 {
		add("port", strconv.Itoa(c.Port))
	}
	add("dbname", c.Database)
	add("user", c.User)
	add("sslmode", c.SSLMode)
	add("sslrootcert", c.SSLRootCert)
	add("sslcert", c.SSLCert)
	add("sslkey", c.SSLKey)
	add("sslpassword", c.SSLPassword)
	timeout := c.ConnectTimeout.Seconds()
	if timeout <= 0 {
		timeout = 30
	}
	add("connect_timeout", strconv.Itoa(max(2, int(timeout))))
	add("application_name", "pgsafe")
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("connection settings of %s: %w", c, err)
	}
	cfg.Password = c.Password
	if !c.AllowWrite {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	return cfg, nil
}

// quoteConnValue quotes a libpq keyword/value value: single quotes, with
// backslash and quote escaped.
func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
