package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// TestConnect runs on one PostgreSQL 15 cluster with TLS on (a certificate
// for 127.0.0.1 only) and a pg_hba.conf with a TLS-only database, a
// rejecting line and a database no line names.
func TestConnect(t *testing.T) {
	t.Parallel()
	p := testenv.Postgres(t)
	ctx := context.Background()
	p.Exec(t, "postgres", `CREATE ROLE alice LOGIN PASSWORD 'alice-pw-31337'`)
	for _, db := range []string{"sslonly", "rejectdb", "nohba", "noconnect"} {
		p.CreateDB(t, db)
	}
	p.Exec(t, "postgres", `REVOKE CONNECT ON DATABASE noconnect FROM PUBLIC`)

	ca := newTestCA(t)
	crt, key := ca.serverCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	writeServerFile(t, p, filepath.Join(p.DataDir, "server.crt"), string(crt))
	writeServerFile(t, p, filepath.Join(p.DataDir, "server.key"), string(key))
	var hbaFile string
	if err := p.Conn(t, "postgres").QueryRow(ctx, "SHOW hba_file").Scan(&hbaFile); err != nil {
		t.Fatal(err)
	}
	writeServerFile(t, p, hbaFile, `local all all scram-sha-256
hostssl sslonly all 127.0.0.1/32 scram-sha-256
host rejectdb all 127.0.0.1/32 reject
host postgres,noconnect,nosuchdb all 127.0.0.1/32 scram-sha-256
`)
	p.Exec(t, "postgres", "ALTER SYSTEM SET ssl_cert_file = "+quoteLiteral(filepath.Join(p.DataDir, "server.crt")))
	p.Exec(t, "postgres", "ALTER SYSTEM SET ssl_key_file = "+quoteLiteral(filepath.Join(p.DataDir, "server.key")))
	p.Exec(t, "postgres", "ALTER SYSTEM SET ssl = on")
	reloadConf(t, p)

	secrets := []string{p.Password, "alice-pw-31337", "wrong-password-42"}
	noLeak := func(t *testing.T, err error) {
		t.Helper()
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, sec := range secrets {
				if strings.Contains(s, sec) {
					t.Errorf("the error shows a password: %s", s)
				}
			}
			if strings.Contains(s, "postgres://") {
				t.Errorf("the error shows a URL: %s", s)
			}
		}
	}

	t.Run("forced read-only even as superuser", func(t *testing.T) {
		t.Parallel()
		conn, err := Connect(ctx, superConfig(p, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, sql := range []string{"CREATE TABLE pgsafe_must_fail (id int)", "CREATE ROLE pgsafe_must_fail", "CREATE TEMP TABLE pgsafe_must_fail (id int)"} {
			_, err := conn.Exec(ctx, sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
				t.Errorf("%s: want read_only_sql_transaction (25006), got %v", sql, err)
			}
		}
	})

	t.Run("parsed URL connects", func(t *testing.T) {
		t.Parallel()
		cfg, err := ParseConnString(p.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		info, err := Test(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if info.Major != 15 || !strings.HasPrefix(info.Version, "15.") || info.Version != p.Version {
			t.Errorf("version %q major %d, want %s", info.Version, info.Major, p.Version)
		}
		if info.Encoding != "UTF8" || info.DatabaseSize < 1<<20 || info.Database != "postgres" || info.User != "postgres" {
			t.Errorf("info %+v", info)
		}
		if info.Latency <= 0 || info.Latency > time.Second || info.ConnectTime < info.Latency || info.SSL || info.InRecovery {
			t.Errorf("latency %v connect %v ssl %v", info.Latency, info.ConnectTime, info.SSL)
		}
	})

	t.Run("verify-full", func(t *testing.T) {
		t.Parallel()
		cfg := clusterConfig(p, "sslonly", "alice", "alice-pw-31337")
		cfg.SSLMode, cfg.SSLRootCert = SSLVerifyFull, ca.File
		info, err := Test(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !info.SSL || info.Database != "sslonly" || info.User != "alice" {
			t.Errorf("info %+v", info)
		}
	})

	closed := freeClosedPort(t)
	silent := silentServer(t, false)
	noTLS := silentServer(t, true)
	otherCA := newTestCA(t)
	cases := []struct {
		name string
		cfg  func() Config
		want Code
	}{
		{"refused", func() Config { c := superConfig(p, "postgres"); c.Port = closed; return c }, CodeRefused},
		{"bad password", func() Config { return clusterConfig(p, "postgres", "alice", "wrong-password-42") }, CodeAuth},
		{"unknown user", func() Config { return clusterConfig(p, "postgres", "nobody_here", "wrong-password-42") }, CodeAuth},
		{"no database", func() Config { return clusterConfig(p, "nosuchdb", "alice", "alice-pw-31337") }, CodeNoDatabase},
		{"no pg_hba entry", func() Config { return clusterConfig(p, "nohba", "alice", "alice-pw-31337") }, CodeNoHBA},
		{"pg_hba rejects", func() Config { return clusterConfig(p, "rejectdb", "alice", "alice-pw-31337") }, CodeNoHBA},
		{"no connect privilege", func() Config { return clusterConfig(p, "noconnect", "alice", "alice-pw-31337") }, CodeNoConnect},
		{"ssl required", func() Config { return clusterConfig(p, "sslonly", "alice", "alice-pw-31337") }, CodeSSLRequired},
		{"certificate host mismatch", func() Config {
			c := clusterConfig(p, "sslonly", "alice", "alice-pw-31337")
			c.Host, c.SSLMode, c.SSLRootCert = "localhost", SSLVerifyFull, ca.File
			return c
		}, CodeCertificate},
		{"certificate untrusted", func() Config {
			c := clusterConfig(p, "sslonly", "alice", "alice-pw-31337")
			c.SSLMode, c.SSLRootCert = SSLVerifyCA, otherCA.File
			return c
		}, CodeCertificate},
		{"ssl not supported", func() Config {
			c := superConfig(p, "postgres")
			c.Port, c.SSLMode = noTLS, SSLRequire
			return c
		}, CodeSSLNotSupported},
		{"timeout", func() Config {
			c := superConfig(p, "postgres")
			c.Port, c.ConnectTimeout = silent, time.Second
			return c
		}, CodeTimeout},
		{"dns", func() Config { c := superConfig(p, "postgres"); c.Host = "pgsafe-test.invalid"; return c }, CodeDNS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.cfg()
			start := time.Now()
			_, err := Test(ctx, cfg)
			var ce *ConnError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *ConnError, got %v", err)
			}
			if ce.Code != c.want {
				t.Errorf("code %s, want %s: %v", ce.Code, c.want, err)
			}
			if ce.Message == "" || !strings.Contains(err.Error(), cfg.Addr()) || !strings.Contains(err.Error(), cfg.User) {
				t.Errorf("the error does not say where and who: %v", err)
			}
			if c.want == CodeTimeout && time.Since(start) > 5*time.Second {
				t.Errorf("the 1 s timeout took %v", time.Since(start))
			}
			noLeak(t, err)
			t.Logf("%s", err)
		})
	}
}

// freeClosedPort is a local port nothing listens on.
func freeClosedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentServer listens on a local port and never answers (refuseTLS false),
// or answers a TLS request with PostgreSQL's "N" (no TLS here) and hangs up.
func silentServer(t *testing.T, refuseTLS bool) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if refuseTLS {
					buf := make([]byte, 8)
					if _, err := io.ReadFull(c, buf); err == nil {
						c.Write([]byte("N"))
					}
					return
				}
				<-done
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
