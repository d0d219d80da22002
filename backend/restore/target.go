package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// server is a connection to a target server's maintenance database, with
// write credentials (asked for at restore time, never stored).
type server struct {
	conn  *pgx.Conn
	major int
	c     pgtools.Conn
}

// connectServer connects to database maint ("postgres" if empty) on the
// server of target, with target's credentials, able to write.
func connectServer(ctx context.Context, target pgtools.Conn, maint string) (*server, error) {
	c := target
	c.AllowWrite = true
	if maint == "" {
		maint = "postgres"
	}
	c.Database = maint
	cfg, err := c.PgxConfig()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the target server %s: %w", c, err)
	}
	s := &server{conn: conn, c: c}
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	s.major = num / 10000
	return s, nil
}

func (s *server) close() { s.conn.Close(context.Background()) }

// checkMajor refuses a target older than the backup's server: pg_restore
// output may use syntax an older server does not know.
func (s *server) checkMajor(backupMajor int) error {
	if s.major < backupMajor {
		return fmt.Errorf("the backup comes from PostgreSQL %d and the target server runs PostgreSQL %d: restore into PostgreSQL %d or newer",
			backupMajor, s.major, backupMajor)
	}
	return nil
}

func (s *server) exists(ctx context.Context, db string) (bool, error) {
	var ok bool
	err := s.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&ok)
	return ok, err
}

// superuser says whether the restoring role is a superuser: only then can a
// restore give every object its recorded owner.
func (s *server) superuser(ctx context.Context) (bool, error) {
	var super bool
	if err := s.conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return false, fmt.Errorf("read the restoring role's attributes: %w", err)
	}
	return super, nil
}

func (s *server) create(ctx context.Context, db string) error {
	if _, err := s.conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("create database %q: %w", db, err)
	}
	return nil
}

// drop drops db, disconnecting its sessions (PostgreSQL 13+).
func (s *server) drop(ctx context.Context, db string) error {
	if _, err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", db, err)
	}
	return nil
}

// to returns the connection to database db on this server.
func (s *server) to(db string) pgtools.Conn {
	c := s.c
	c.Database = db
	return c
}

var errNoClient = errors.New("no pg_restore: install the PostgreSQL client tools")
