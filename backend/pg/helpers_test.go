package pg

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// clusterConfig is a Config for database db on p as user/password.
func clusterConfig(p *testenv.PG, db, user, password string) Config {
	return Config{Host: p.Host, Port: p.Port, Database: db, User: user, Password: NewSecret(password),
		SSLMode: SSLDisable, ConnectTimeout: 10 * time.Second}
}

// superConfig is a Config for database db on p as its superuser.
func superConfig(p *testenv.PG, db string) Config { return clusterConfig(p, db, p.User, p.Password) }

// writeServerFile writes a private file (0600) in the cluster's data
// directory, owned by the server's user (the data directory's owner), so the
// server can read it, and accepts it as a key file, whoever runs the tests.
func writeServerFile(t *testing.T, p *testenv.PG, path, content string) {
	t.Helper()
	fi, err := os.Stat(p.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		t.Fatal(err)
	}
}

// reloadConf makes the server re-read its configuration files and waits
// until new sessions see it.
func reloadConf(t *testing.T, p *testenv.PG) {
	t.Helper()
	ctx := context.Background()
	conn := p.Conn(t, "postgres")
	var before time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		if err == nil {
			var now time.Time
			err = c.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&now)
			c.Close(ctx)
			if err == nil && now.After(before) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the server did not reload its configuration within 10 s")
}
