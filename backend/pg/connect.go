package pg

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Connect opens a read-only session: default_transaction_read_only is set at
// startup and checked (and set again if a pooler dropped it) before the
// connection is returned. Errors are *ConnError.
func Connect(ctx context.Context, cfg Config) (*pgx.Conn, error) {
	pc, err := cfg.PgxConfig()
	if err != nil {
		return nil, &ConnError{Code: CodeConfig, Addr: cfg.Addr(), User: cfg.User, Database: cfg.Database, Message: err.Error(), Err: err}
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		ce := classify(cfg, err)
		if ce.Code == CodeNoHBA && unencryptedNoHBA(err) && (cfg.SSLMode == SSLDisable || cfg.SSLMode == SSLAllow) && sslLetsIn(ctx, cfg) {
			ce.Code, ce.Message = CodeSSLRequired, sslRequiredMessage
		}
		return nil, ce
	}
	if err := ensureReadOnly(ctx, conn); err != nil {
		conn.Close(context.Background())
		return nil, &ConnError{Code: CodeNotReadOnly, Addr: cfg.Addr(), User: cfg.User, Database: cfg.Database,
			Message: "the session could not be made read-only, so PgSafe will not use it: " + err.Error(), Err: err}
	}
	return conn, nil
}

// sslLetsIn tries cfg encrypted (sslmode=require): whether pg_hba.conf lets
// that connection past (whatever happens next, a wrong password included).
func sslLetsIn(ctx context.Context, cfg Config) bool {
	cfg.SSLMode = SSLRequire
	pc, err := cfg.PgxConfig()
	if err != nil {
		return false
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err == nil {
		conn.Close(context.Background())
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && !strings.Contains(pgErr.Message, "pg_hba.conf")
}

// ensureReadOnly checks default_transaction_read_only, setting it if needed.
func ensureReadOnly(ctx context.Context, conn *pgx.Conn) error {
	ro := func() (bool, error) {
		var v string
		err := conn.QueryRow(ctx, "SELECT current_setting('default_transaction_read_only')").Scan(&v)
		return v == "on", err
	}
	ok, err := ro()
	if err != nil {
		return fmt.Errorf("check default_transaction_read_only: %w", err)
	}
	if ok {
		return nil
	}
	if _, err := conn.Exec(ctx, "SET SESSION default_transaction_read_only = on"); err != nil {
		return fmt.Errorf("set default_transaction_read_only: %w", err)
	}
	if ok, err = ro(); err != nil || !ok {
		return fmt.Errorf("default_transaction_read_only stays off (%v)", err)
	}
	return nil
}

// ServerInfo is what "Test connection" reports.
type ServerInfo struct {
	Version      string        `json:"version"`       // e.g. "15.18" (server_version)
	VersionNum   int           `json:"version_num"`   // e.g. 150018 (server_version_num)
	Major        int           `json:"major"`         // e.g. 15
	Database     string        `json:"database"`      // current_database()
	User         string        `json:"user"`          // current_user
	DatabaseSize int64         `json:"database_size"` // bytes, pg_database_size
	Encoding     string        `json:"encoding"`      // server_encoding, e.g. UTF8
	SSL          bool          `json:"ssl"`           // the session is encrypted
	ConnectTime  time.Duration `json:"connect_time"`  // connecting, TLS and authentication included
	Latency      time.Duration `json:"latency"`       // one query's round trip, the best of three
	InRecovery   bool          `json:"in_recovery"`   // a standby
}

// Test connects with cfg and reports the server's version, the database's
// size and encoding, and the latency. Errors are *ConnError with a Code.
func Test(ctx context.Context, cfg Config) (ServerInfo, error) {
	start := time.Now()
	conn, err := Connect(ctx, cfg)
	if err != nil {
		return ServerInfo{}, err
	}
	defer conn.Close(context.Background())
	info := ServerInfo{ConnectTime: time.Since(start)}
	_, info.SSL = conn.PgConn().Conn().(*tls.Conn)
	for i := 0; i < 3; i++ {
		t := time.Now()
		if _, err := conn.Exec(ctx, ";"); err != nil {
			return ServerInfo{}, fmt.Errorf("test %s: %w", cfg, err)
		}
		if d := time.Since(t); info.Latency == 0 || d < info.Latency {
			info.Latency = d
		}
	}
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('server_version_num')::int,
		current_database(), current_user, pg_database_size(current_database()),
		current_setting('server_encoding'), pg_is_in_recovery()`).Scan(
		&info.Version, &info.VersionNum, &info.Database, &info.User, &info.DatabaseSize, &info.Encoding, &info.InRecovery)
	if err != nil {
		return ServerInfo{}, fmt.Errorf("test %s: read the server's version and the database's size: %w", cfg, err)
	}
	info.Major = info.VersionNum / 10000
	if f := strings.Fields(info.Version); len(f) > 0 { // "15.18 (Debian 15.18-1)"
		info.Version = f[0]
	}
	return info, nil
}
