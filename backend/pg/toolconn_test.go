package pg

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// A database reached with a client certificate whose key is protected by a
// passphrase (sslpassword): the connection test and pg_dump both get in,
// pg_dump through ToolConn.
func TestToolConnSSLPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := testenv.Postgres(t)
	p.Exec(t, "postgres", `CREATE ROLE alice LOGIN`)
	p.CreateDB(t, "certdb")
	p.Exec(t, "certdb", `CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2); GRANT SELECT ON items TO alice`)

	ca := newTestCA(t)
	crt, key := ca.serverCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	writeServerFile(t, p, filepath.Join(p.DataDir, "server.crt"), string(crt))
	writeServerFile(t, p, filepath.Join(p.DataDir, "server.key"), string(key))
	writeServerFile(t, p, filepath.Join(p.DataDir, "client-ca.crt"), string(ca.CertPEM))
	var hbaFile string
	if err := p.Conn(t, "postgres").QueryRow(ctx, "SHOW hba_file").Scan(&hbaFile); err != nil {
		t.Fatal(err)
	}
	writeServerFile(t, p, hbaFile, `local all all scram-sha-256
hostssl certdb alice 127.0.0.1/32 cert
host all all 127.0.0.1/32 scram-sha-256
`)
	for _, set := range []string{
		"ssl_cert_file = " + quoteLiteral(filepath.Join(p.DataDir, "server.crt")),
		"ssl_key_file = " + quoteLiteral(filepath.Join(p.DataDir, "server.key")),
		"ssl_ca_file = " + quoteLiteral(filepath.Join(p.DataDir, "client-ca.crt")),
		"ssl = on",
	} {
		p.Exec(t, "postgres", "ALTER SYSTEM SET "+set)
	}
	reloadConf(t, p)

	const passphrase = "key passphrase, with spaces and 'quotes'"
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")
	certPEM, keyDER := ca.clientCert(t, "alice")
	//lint:ignore SA1019 libpq (OpenSSL) and pgx both read this legacy encrypted PEM
	block, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", keyDER, []byte(passphrase), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := Config{Host: p.Host, Port: p.Port, Database: "certdb", User: "alice", SSLMode: SSLVerifyFull,
		SSLRootCert: ca.File, SSLCert: certFile, SSLKey: keyFile, SSLPassword: NewSecret(passphrase), ConnectTimeout: 10 * time.Second}
	if info, err := Test(ctx, cfg); err != nil || !info.SSL || info.User != "alice" {
		t.Fatalf("Test = %+v, %v", info, err)
	}
	client, err := pgtools.Pick(pgtools.Discover(ctx), p.Major)
	if err != nil {
		t.Fatal(err)
	}
	dump := func(tc pgtools.Conn) (int64, error) {
		r, err := pgtools.Dump(ctx, client.PgDump, tc, pgtools.DumpOptions{})
		if err != nil {
			return 0, err
		}
		defer r.Close()
		return io.Copy(io.Discard, r)
	}
	if n, err := dump(cfg.ToolConn()); err != nil || n == 0 {
		t.Fatalf("pg_dump with the key's passphrase: %d bytes, %v", n, err)
	}
	// Without it, the key cannot be used: the passphrase is what got in.
	tc := cfg.ToolConn()
	tc.SSLPassword = "not the passphrase"
	if _, err := dump(tc); err == nil {
		t.Fatal("pg_dump with a wrong key passphrase succeeded")
	}
}

// clientCert issues a client certificate for user cn (PostgreSQL's cert
// authentication matches the common name), returning the certificate in
// PEM and its RSA key in PKCS #1 DER.
func (ca *testCA) clientCert(t *testing.T, cn string) (certPEM, keyDER []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), x509.MarshalPKCS1PrivateKey(key)
}
