package engine

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestDatabaseThroughSSH adds a database that is only reachable through an
// SSH bastion (the host name "127.0.0.1" is resolved on the bastion), after
// fetching and pinning the bastion's host key, and backs it up.
func TestDatabaseThroughSSH(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	bastion := testenv.SFTP(t, testenv.WithForwarding())
	srv := testenv.Postgres(t)
	srv.Exec(t, "postgres", "CREATE TABLE t (id int); CREATE ROLE reader LOGIN PASSWORD 'tunnel-pw-1'; GRANT SELECT ON t TO reader;")
	tun := store.SSHTunnel{Host: bastion.Host, Port: bastion.Port, User: bastion.User, PrivateKey: store.NewSecret(string(bastion.PrivateKey))}

	hk, err := SSHHostKey(ctx, tun)
	if err != nil || hk.Fingerprint != ssh.FingerprintSHA256(bastion.HostKey) {
		t.Fatalf("SSHHostKey = %+v, %v", hk, err)
	}
	// Not trusted yet: refused with the fingerprint to check.
	in := DatabaseInput{Name: "behind-bastion", Host: "127.0.0.1", Port: srv.Port, DBName: "postgres", User: "reader", Password: "tunnel-pw-1", SSLMode: "disable", SSH: &tun}
	if _, err := CheckInput(ctx, in); err == nil || !strings.Contains(err.Error(), hk.Fingerprint) {
		t.Fatalf("an unknown host key was accepted: %v", err)
	}
	tun.HostKey = hk.Key
	res, err := CheckInput(ctx, in)
	if err != nil || res.Server.Major != 15 {
		t.Fatalf("check through the tunnel = %+v, %v", res, err)
	}
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "f", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	in.StorageNames = []string{"f"}
	if _, err := e.AddDatabase(ctx, in, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "behind-bastion", store.OriginManual, nil)
	if err != nil || b.Status != store.StatusSucceeded {
		t.Fatalf("backup through the tunnel: %+v, %v", b, err)
	}
}
