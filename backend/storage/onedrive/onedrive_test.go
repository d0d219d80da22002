package onedrive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

// The tests run against testenv.OneDrive, a local fake of the Microsoft
// Graph endpoints this package calls: no Microsoft service is reachable
// here.

func open(t *testing.T, f *testenv.OneDriveFake, folder string) *OneDrive {
	t.Helper()
	o, err := New(context.Background(), Config{Folder: folder, Client: f.Client(), GraphURL: f.GraphURL, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestConformance(t *testing.T) {
	f := testenv.OneDrive(t)
	o := open(t, f, "/PgSafe Backups")
	storagetest.Run(t, o)
	if n := f.Sessions(); n != 0 {
		t.Fatalf("%d upload sessions left open", n)
	}
	if n := f.TokenLeaks(); n != 0 {
		t.Fatalf("the access token went to a pre-authenticated URL %d times", n)
	}
	if left, _ := os.ReadDir(o.spoolDir); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestUploadSessionRanges(t *testing.T) {
	f := testenv.OneDrive(t)
	o := open(t, f, "/PgSafe")
	ctx := context.Background()
	data := make([]byte, 2*ChunkSize+12345)
	rand.Read(data)

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- o.Put(ctx, "12/big.pgsafe", pr) }()
	pw.Write(data[:2*ChunkSize])
	if files := f.Files(); len(files) != 0 {
		t.Fatalf("files before the last byte: %v", files)
	}
	pw.Write(data[2*ChunkSize:])
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, ok := f.File("/PgSafe/12/big.pgsafe")
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes (%v), want %d", len(got), ok, len(data))
	}
	if r := f.Ranges(); len(r) != 3 || r[0] != ChunkSize || r[1] != ChunkSize || r[2] != 12345 {
		t.Fatalf("ranges %v", r)
	}
	// A second upload replaces the file whole.
	if err := o.Put(ctx, "12/big.pgsafe", bytes.NewReader(data[:SmallMax+1])); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.File("/PgSafe/12/big.pgsafe"); !bytes.Equal(got, data[:SmallMax+1]) {
		t.Fatalf("replaced with %d bytes", len(got))
	}
	if f.Sessions() != 0 || f.TokenLeaks() != 0 {
		t.Fatalf("sessions %d, token leaks %d", f.Sessions(), f.TokenLeaks())
	}
	// A failure after the session started cancels it.
	f.Quota = int64(len(data))
	err := o.Put(ctx, "12/other.pgsafe", bytes.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "the OneDrive is full") {
		t.Fatalf("over quota: %v", err)
	}
	if f.Sessions() != 0 {
		t.Fatalf("a failed upload left %d sessions", f.Sessions())
	}
}

func TestRateLimitIsWaitedOut(t *testing.T) {
	f := testenv.OneDrive(t)
	o := open(t, f, "/PgSafe")
	o.retry.Attempts = 3
	f.Throttle(2)
	if err := o.Put(context.Background(), "a", strings.NewReader("x")); err != nil {
		t.Fatalf("two 429s with Retry-After, then success: %v", err)
	}
	f.Throttle(3)
	err := o.Put(context.Background(), "b", strings.NewReader("x"))
	if err == nil || !strings.Contains(err.Error(), "limiting PgSafe's requests") {
		t.Fatalf("three 429s of three attempts: %v", err)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	f := testenv.OneDrive(t)
	o := open(t, f, "/PgSafe")
	if err := o.Put(ctx, "x", strings.NewReader("1")); err != nil {
		t.Fatal(err)
	}
	wrong := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "Bearer nope")
		return http.DefaultTransport.RoundTrip(r)
	})}
	_, err := New(ctx, Config{Folder: "/PgSafe", Client: wrong, GraphURL: f.GraphURL})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "sign in to OneDrive again") {
		t.Fatalf("wrong token: %v", err)
	}
	if svc, ok := oauth.ReauthIn(err.Error()); !ok || svc != "OneDrive" {
		t.Fatalf("the status model does not see %q as 'sign in to OneDrive again'", err)
	}
	_, err = New(ctx, Config{Folder: "/PgSafe/x", Client: f.Client(), GraphURL: f.GraphURL})
	if err == nil || !strings.Contains(err.Error(), "is a file, not a folder: choose another folder") {
		t.Fatalf("a file as the folder: %v", err)
	}
	if a, err := o.Account(ctx); err != nil || a != f.Email {
		t.Fatalf("Account = %q, %v", a, err)
	}
	if free, total, err := o.Space(ctx); err != nil || free != f.Quota-1 || total != f.Quota {
		t.Fatalf("Space = %d, %d, %v", free, total, err)
	}
	f.Revoke()
	for what, err := range map[string]error{
		"put":    o.Put(ctx, "z", strings.NewReader("1")),
		"list":   func() error { _, err := o.List(ctx, ""); return err }(),
		"delete": o.Delete(ctx, "x"),
	} {
		if !errors.Is(err, ErrSignIn) {
			t.Errorf("%s after revoking: %v", what, err)
		}
	}
	dead := &OneDrive{folder: "/PgSafe", graph: "http://127.0.0.1:1/v1.0", client: http.DefaultClient, plain: http.DefaultClient, retry: o.retry}
	dead.retry.Attempts = 1
	if _, err := dead.List(ctx, ""); err == nil || !strings.Contains(err.Error(), "check the network connection") {
		t.Fatalf("server gone: %v", err)
	}
	// No room for the temporary copy.
	full := open(t, testenv.OneDrive(t), "/PgSafe")
	full.spoolDir = "/dev/full/x"
	if err := full.Put(ctx, "big", bytes.NewReader(make([]byte, SmallMax+1))); err == nil || !strings.Contains(err.Error(), "temporary copy") {
		t.Fatalf("spool failure: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNonASCIINamesAndNoSecretInOutput(t *testing.T) {
	f := testenv.OneDrive(t)
	o := open(t, f, "/Sauvegardes été")
	ctx := context.Background()
	if err := o.Put(ctx, "base/données #1 ☃.pgsafe", strings.NewReader("ok")); err != nil {
		t.Fatal(err)
	}
	list, err := o.List(ctx, "base/")
	if err != nil || len(list) != 1 || list[0].Name != "base/données #1 ☃.pgsafe" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	rc, err := o.Open(ctx, "base/données #1 ☃.pgsafe")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "ok" {
		t.Fatalf("read %q", b)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("storage", "s", o)
	f.Revoke()
	_, err = o.Stat(ctx, "base/données #1 ☃.pgsafe")
	if !errors.Is(err, ErrSignIn) || storage.IsNotFound(err) {
		t.Fatalf("Stat after revoking: %v", err)
	}
	for _, out := range []string{logs.String(), err.Error(), o.String()} {
		if strings.Contains(out, f.Token) {
			t.Fatalf("the token is in %q", out)
		}
	}
}

// A connection that stops answering fails the request after
// webapi.RequestTimeout instead of hanging the backup.
func TestSilentServerTimesOut(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer srv.Close()
	defer close(stop)
	old := webapi.RequestTimeout
	webapi.RequestTimeout = 300 * time.Millisecond
	defer func() { webapi.RequestTimeout = old }()
	o := &OneDrive{folder: "/PgSafe", graph: srv.URL, client: srv.Client(), plain: srv.Client(), retry: webapi.Retry{Attempts: 1, Base: time.Millisecond, MaxWait: time.Millisecond}}
	err := o.Put(context.Background(), "x", strings.NewReader("data"))
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("Put to a silent server: %v", err)
	}
}
