package tunnel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

func TestTunnel(t *testing.T) {
	bastion := testenv.SFTP(t, testenv.WithForwarding())
	pg := testenv.Postgres(t)
	ctx := context.Background()
	pinned := string(ssh.MarshalAuthorizedKey(bastion.HostKey))
	cfg := Config{Host: bastion.Host, Port: bastion.Port, User: bastion.User, PrivateKey: bastion.PrivateKey, HostKey: pinned}

	t.Run("pgx and pg_dump through the tunnel", func(t *testing.T) {
		tun, err := Open(ctx, cfg, pg.Host, pg.Port)
		if err != nil {
			t.Fatal(err)
		}
		defer tun.Close()
		if tun.Port == pg.Port {
			t.Fatal("the tunnel reuses the database's port")
		}
		c := pgtools.Conn{Host: tun.Host, Port: tun.Port, Database: "postgres", User: pg.User, Password: pg.Password, SSLMode: "disable"}
		pcfg, _ := c.PgxConfig()
		conn, err := pgx.ConnectConfig(ctx, pcfg)
		if err != nil {
			t.Fatalf("pgx through the tunnel: %v", err)
		}
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("query through the tunnel: %v", err)
		}
		conn.Close(ctx)
		in, err := pgtools.Pick(pgtools.Discover(ctx), pg.Major)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := pgtools.Dump(ctx, in.PgDump, c, pgtools.DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := rc.Read(buf); err != nil || string(buf) != "PGDMP" {
			t.Fatalf("pg_dump through the tunnel: %q %v", buf, err)
		}
		rc.Close()
	})

	t.Run("known_hosts file", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(kh, []byte(bastion.KnownHostsLine()+"\n"), 0o600)
		c := cfg
		c.HostKey, c.KnownHostsPath = "", kh
		tun, err := Open(ctx, c, pg.Host, pg.Port)
		if err != nil {
			t.Fatal(err)
		}
		tun.Close()
	})

	t.Run("changed host key", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		s, _ := ssh.NewSignerFromKey(other)
		c := cfg
		c.HostKey = string(ssh.MarshalAuthorizedKey(s.PublicKey()))
		_, err := Open(ctx, c, pg.Host, pg.Port)
		var hk *HostKeyError
		if !errors.As(err, &hk) || !hk.Mismatch || hk.Fingerprint != ssh.FingerprintSHA256(bastion.HostKey) || !strings.Contains(err.Error(), "has changed") {
			t.Fatalf("Open with another pinned key: %v", err)
		}
	})

	t.Run("unknown host key, fetched for the user", func(t *testing.T) {
		c := cfg
		c.HostKey = ""
		_, err := Open(ctx, c, pg.Host, pg.Port)
		var hk *HostKeyError
		if !errors.As(err, &hk) || hk.Mismatch {
			t.Fatalf("Open without a known host key: %v", err)
		}
		got, err := FetchHostKey(ctx, c)
		if err != nil || got.Fingerprint != ssh.FingerprintSHA256(bastion.HostKey) || got.Key != pinned {
			t.Fatalf("FetchHostKey = %+v, %v", got, err)
		}
	})

	t.Run("wrong client key", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		pemBlock, _ := ssh.MarshalPrivateKey(other, "")
		c := cfg
		c.PrivateKey = pemEncode(pemBlock)
		_, err := Open(ctx, c, pg.Host, pg.Port)
		if err == nil || !strings.Contains(err.Error(), "SSH login") {
			t.Fatalf("Open with a key the bastion does not accept: %v", err)
		}
	})

	t.Run("target unreachable from the bastion", func(t *testing.T) {
		_, err := Open(ctx, cfg, "127.0.0.1", 1)
		if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1") {
			t.Fatalf("%v", err)
		}
	})

	t.Run("secrets not printed", func(t *testing.T) {
		c := cfg
		c.Password = "hunter2-tunnel"
		for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
			if strings.Contains(s, "hunter2") || strings.Contains(s, "PRIVATE") {
				t.Fatalf("Config prints a secret: %s", s)
			}
		}
	})
}

func TestTunnelForwardingRefused(t *testing.T) {
	bastion := testenv.SFTP(t) // AllowTcpForwarding no
	cfg := Config{Host: bastion.Host, Port: bastion.Port, User: bastion.User, PrivateKey: bastion.PrivateKey,
		HostKey: string(ssh.MarshalAuthorizedKey(bastion.HostKey))}
	_, err := Open(context.Background(), cfg, "127.0.0.1", 5432)
	if err == nil || !strings.Contains(err.Error(), "allows port forwarding") {
		t.Fatalf("%v", err)
	}
}
