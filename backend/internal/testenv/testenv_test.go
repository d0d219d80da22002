package testenv

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jackc/pgx/v5"
	"github.com/zalando/go-keyring"
	"golang.org/x/crypto/ssh"
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
	// The environment points at this keychain, which keeps its file in Home.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != k.BusAddress || os.Getenv("HOME") != k.Home {
		t.Errorf("environment not set: DBUS_SESSION_BUS_ADDRESS=%q HOME=%q", os.Getenv("DBUS_SESSION_BUS_ADDRESS"), os.Getenv("HOME"))
	}
	if _, err := os.Stat(filepath.Join(k.Home, ".local", "share", "keyrings", "login.keyring")); err != nil {
		t.Errorf("gnome-keyring's login keyring file: %v", err)
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
	// The server (which wrote postmaster.pid) is not root when tests are.
	wantUser := currentUserName(t)
	if os.Geteuid() == 0 {
		wantUser = serverUser(t).Name
	}
	checkOwnedBy(t, filepath.Join(p.DataDir, "postmaster.pid"), wantUser)
	if p.Host != "127.0.0.1" || p.User != "postgres" || len(p.Password) < 16 || p.Port == 0 {
		t.Errorf("PG = host %q user %q password %q port %d", p.Host, p.User, p.Password, p.Port)
	}

	// Stop makes the server unreachable (and cleanup's stop is then a no-op).
	p.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, p.URL("postgres")); err == nil {
		c.Close(ctx)
		t.Error("connected after Stop")
	}
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

func TestSFTP(t *testing.T) {
	t.Parallel()
	s := SFTP(t)
	c := s.Client(t)

	// Relative paths land in Root.
	data := make([]byte, 1<<20+3)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := c.MkdirAll("backups/db"); err != nil {
		t.Fatalf("MkdirAll: %v", err)
	}
	f, err := c.Create("backups/db/one.pgsafe")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r, err := c.Open("backups/db/one.pgsafe")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (err %v), want the %d bytes uploaded", len(got), err, len(data))
	}
	if onDisk, err := os.ReadFile(filepath.Join(s.Root, "backups", "db", "one.pgsafe")); err != nil || !bytes.Equal(onDisk, data) {
		t.Errorf("file under Root: %d bytes, err %v", len(onDisk), err)
	}
	checkOwnedBy(t, filepath.Join(s.Root, "backups", "db", "one.pgsafe"), s.User)

	// The stored PEM is the same key as Signer.
	parsed, err := ssh.ParsePrivateKey(s.PrivateKey)
	if err != nil || !bytes.Equal(parsed.PublicKey().Marshal(), s.Signer.PublicKey().Marshal()) {
		t.Errorf("PrivateKey does not parse to Signer's key (err %v)", err)
	}
	if !strings.Contains(s.KnownHostsLine(), "ssh-ed25519 ") {
		t.Errorf("KnownHostsLine = %q", s.KnownHostsLine())
	}

	// An unknown client key is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(other)
	cfg := s.ClientConfig()
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(otherSigner)}
	if conn, err := ssh.Dial("tcp", s.Addr, cfg); err == nil {
		conn.Close()
		t.Fatal("login with an unknown key succeeded")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("unknown key: err = %v, want unable to authenticate", err)
	}
	// So is a password (PasswordAuthentication no).
	cfg.Auth = []ssh.AuthMethod{ssh.Password("x")}
	if conn, err := ssh.Dial("tcp", s.Addr, cfg); err == nil {
		conn.Close()
		t.Fatal("login with a password succeeded")
	}
	// And a client pinning another host key refuses the server.
	_, otherHost, _ := ed25519.GenerateKey(rand.Reader)
	otherHostSigner, _ := ssh.NewSignerFromKey(otherHost)
	cfg = s.ClientConfig()
	cfg.HostKeyCallback = ssh.FixedHostKey(otherHostSigner.PublicKey())
	if conn, err := ssh.Dial("tcp", s.Addr, cfg); err == nil {
		conn.Close()
		t.Fatal("handshake succeeded against a different pinned host key")
	}
}

// fatalRecorder is a testing.TB whose Fatal/Fatalf record the message and
// end the goroutine, to test that helpers fail loudly instead of skipping.
type fatalRecorder struct {
	testing.TB
	msg     string
	skipped bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalRecorder) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalRecorder) Skip(...any)       { f.skipped = true; runtime.Goexit() }
func (f *fatalRecorder) Skipf(string, ...any) {
	f.skipped = true
	runtime.Goexit()
}
func (f *fatalRecorder) SkipNow() { f.skipped = true; runtime.Goexit() }

// expectFatal runs fn with a fatalRecorder and returns the fatal message.
func expectFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	if f.skipped {
		t.Fatal("the helper skipped instead of failing")
	}
	if f.msg == "" {
		t.Fatal("the helper did not fail")
	}
	return f.msg
}

func TestMissingToolsFailLoudly(t *testing.T) {
	t.Setenv("PGSAFE_TOOLS_DIR", t.TempDir())
	msg := expectFatal(t, func(tb testing.TB) { Postgres(tb, WithVersion(99)) })
	for _, want := range []string{"PostgreSQL 99 is not installed", "make test-deps", "scripts/fetch-embedded-pg.sh 99"} {
		if !strings.Contains(msg, want) {
			t.Errorf("WithVersion(99) failure %q lacks %q", msg, want)
		}
	}
	msg = expectFatal(t, func(tb testing.TB) { S3(tb) })
	if !strings.Contains(msg, "versitygw") || !strings.Contains(msg, "make test-deps") {
		t.Errorf("S3 failure %q should name versitygw and make test-deps", msg)
	}
	msg = expectFatal(t, func(tb testing.TB) { Postgres(tb, WithBinDir(t.TempDir())) })
	if !strings.Contains(msg, "initdb") {
		t.Errorf("WithBinDir(empty) failure %q should name initdb", msg)
	}
}
