package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jackc/pgx/v5"
	"github.com/zalando/go-keyring"
)

func TestKeychain(t *testing.T) {
	k := Keychain(t)
	if !strings.HasPrefix(k.BusAddress, "unix:path=") {
		t.Fatalf("BusAddress = %q", k.BusAddress)
	}
	const service, user = "pgsafe-testenv", "master-key"
	secret := "s3cret-" + randomHex(8)

	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	if err := keyring.Set(service, user, secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := keyring.Get(service, user)
	if err != nil || got != secret {
		t.Fatalf("Get = %q, %v; want %q", got, err, secret)
	}
	// The secret is really in gnome-keyring: libsecret's secret-tool finds it
	// on the same bus.
	if v, ok := k.Lookup(t, map[string]string{"service": service, "username": user}); !ok || v != secret {
		t.Fatalf("secret-tool lookup = %q, %v; want %q", v, ok, secret)
	}

	k.Lock(t)
	_, err = keyring.Get(service, user)
	if err == nil || !strings.Contains(err.Error(), "failed to unlock") {
		t.Fatalf("Get with the keychain locked: err = %v, want an unlock failure", err)
	}
	t.Logf("locked keychain: %v", err)
	k.Unlock(t)
	if got, err := keyring.Get(service, user); err != nil || got != secret {
		t.Fatalf("Get after Unlock = %q, %v; want %q", got, err, secret)
	}

	if err := keyring.Delete(service, user); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if v, ok := k.Lookup(t, map[string]string{"service": service, "username": user}); ok {
		t.Fatalf("secret-tool still finds %q after Delete", v)
	}
}

func TestKeychainMissing(t *testing.T) {
	KeychainMissing(t)
	err := keyring.Set("pgsafe-testenv", "u", "p")
	if err == nil || !strings.Contains(err.Error(), "org.freedesktop.secrets") {
		t.Fatalf("Set without a Secret Service: err = %v, want org.freedesktop.secrets not provided", err)
	}
	t.Logf("no Secret Service: %v", err)
}

func TestKeychainNoBus(t *testing.T) {
	KeychainNoBus(t)
	_, err := keyring.Get("pgsafe-testenv", "u")
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Get without a session bus: err = %v, want a dial error", err)
	}
	t.Logf("no session bus: %v", err)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	p := Postgres(t)
	checkPostgres(t, p, DebianPGMajor)
}

func TestPostgresWithVersion17(t *testing.T) {
	t.Parallel()
	p := Postgres(t, WithVersion(17))
	if !strings.HasPrefix(p.BinDir, ToolsDir(t)) {
		t.Errorf("BinDir = %s, want the embedded server under %s", p.BinDir, ToolsDir(t))
	}
	checkPostgres(t, p, 17)
}

func checkPostgres(t *testing.T, p *PG, major int) {
	t.Helper()
	ctx := context.Background()
	if p.Major != major {
		t.Errorf("Major = %d, want %d", p.Major, major)
	}
	conn := p.Conn(t, "postgres")
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		t.Fatal(err)
	}
	if num/10000 != major {
		t.Errorf("server_version_num = %d, want major %d", num, major)
	}
	var enc, method string
	if err := conn.QueryRow(ctx, "SHOW password_encryption").Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if enc != "scram-sha-256" {
		t.Errorf("password_encryption = %q, want scram-sha-256", enc)
	}
	// The stored verifier is SCRAM, and pg_hba demands it over TCP.
	if err := conn.QueryRow(ctx, "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = current_user").Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method != "SCRAM-SHA-256$" {
		t.Errorf("superuser password stored as %q…, want a SCRAM-SHA-256 verifier", method)
	}

	p.CreateDB(t, "app db")
	p.Exec(t, "app db", "CREATE TABLE t (v text); INSERT INTO t VALUES ('héllo')")
	var v string
	if err := p.Conn(t, "app db").QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != "héllo" {
		t.Errorf("SELECT v = %q, %v", v, err)
	}

	// A wrong password is refused.
	badURL := strings.Replace(p.URL("postgres"), ":"+p.Password+"@", ":wrong@", 1)
	if badURL == p.URL("postgres") {
		t.Fatalf("URL %q does not hold the password", badURL)
	}
	c, err := pgx.Connect(ctx, badURL)
	if err == nil {
		c.Close(ctx)
		t.Fatal("connecting with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("wrong password: err = %v, want password authentication failed", err)
	}
}

func TestS3(t *testing.T) {
	t.Parallel()
	s := S3(t)
	ctx := context.Background()
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || s.Region != "us-east-1" {
		t.Errorf("Endpoint = %q, Region = %q", s.Endpoint, s.Region)
	}
	s.CreateBucket(t, "backups")
	body := make([]byte, 3<<20+17) // more than one 1 MiB I/O buffer
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	c := s.NewClient()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("backups"), Key: aws.String("db/one.pgsafe"), Body: bytes.NewReader(body),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("db/one.pgsafe")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetObject returned %d bytes (err %v), want the %d bytes put", len(got), err, len(body))
	}
	// A real posix backend: the object is a plain file under Dir.
	if onDisk, err := os.ReadFile(filepath.Join(s.Dir, "backups", "db", "one.pgsafe")); err != nil || !bytes.Equal(onDisk, body) {
		t.Errorf("object on disk: %d bytes, err %v", len(onDisk), err)
	}

	// Signatures are checked: a wrong secret is refused (403
	// SignatureDoesNotMatch), and so is an unknown access key (versitygw
	// answers 404 XAdminUserNotFound where AWS says 403 InvalidAccessKeyId).
	get := func(c *s3.Client) error {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("db/one.pgsafe")})
		return err
	}
	var apiErr smithy.APIError
	var respErr *smithyhttp.ResponseError
	err = get(s.ClientWith(s.AccessKey, s.SecretKey+"x"))
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" ||
		!errors.As(err, &respErr) || respErr.HTTPStatusCode() != 403 {
		t.Errorf("wrong secret: err = %v, want 403 SignatureDoesNotMatch", err)
	}
	err = get(s.ClientWith("AKUNKNOWN", s.SecretKey))
	if !errors.As(err, &apiErr) {
		t.Errorf("unknown access key: err = %v, want an S3 refusal", err)
	} else {
		t.Logf("unknown access key: %s", apiErr.ErrorCode())
	}
}
