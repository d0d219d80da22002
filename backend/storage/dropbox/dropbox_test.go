package dropbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

// The tests run against testenv.Dropbox, a local fake of the Dropbox API
// endpoints this package calls: no real Dropbox is reachable here.

func open(t *testing.T, f *testenv.DropboxFake, folder string) *Dropbox {
	t.Helper()
	d, err := New(context.Background(), Config{Folder: folder, Client: f.Client(), APIURL: f.URL, ContentURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConformance(t *testing.T) {
	f := testenv.Dropbox(t)
	storagetest.Run(t, open(t, f, "/PgSafe Backups"))
	// The Put killed midway left its session (invisible; Dropbox drops it
	// after 7 days), and nothing else did.
	if n := f.Sessions(); n != 1 {
		t.Fatalf("%d upload sessions left unfinished, want the killed Put's one", n)
	}
}

func TestChunkedUploadIsCommittedOnlyAtFinish(t *testing.T) {
	f := testenv.Dropbox(t)
	d := open(t, f, "/PgSafe")
	ctx := context.Background()
	data := make([]byte, 2*ChunkSize+12345)
	rand.Read(data)

	// The stream stops after the first append: nothing may be visible yet.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- d.Put(ctx, "12/big.pgsafe", pr) }()
	pw.Write(data[:2*ChunkSize])
	if files := f.Files(); len(files) != 0 {
		t.Fatalf("files before finish: %v", files)
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
	// start carried chunk 1, one append chunk 2, finish the rest.
	if a := f.Appends(); len(a) != 1 || a[0] != ChunkSize {
		t.Fatalf("appends %v, want one of %d", a, ChunkSize)
	}
	if f.Sessions() != 0 {
		t.Fatalf("%d sessions left open", f.Sessions())
	}
	// An exact multiple of the chunk size ends with an empty finish.
	if err := d.Put(ctx, "12/even.pgsafe", bytes.NewReader(data[:2*ChunkSize])); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.File("/PgSafe/12/even.pgsafe"); !bytes.Equal(got, data[:2*ChunkSize]) {
		t.Fatalf("stored %d bytes", len(got))
	}
}

// An append whose answer was lost is sent again; Dropbox's incorrect_offset
// then says the data arrived the first time, and the upload goes on.
func TestAppendRepeatedAfterALostAnswer(t *testing.T) {
	f := testenv.Dropbox(t)
	d := open(t, f, "/PgSafe")
	data := make([]byte, 3*ChunkSize+5)
	rand.Read(data)
	f.LoseAnswers("files/upload_session/append_v2", 1)
	if err := d.Put(context.Background(), "x", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.File("/PgSafe/x"); !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(data))
	}
	if a := f.Appends(); len(a) != 2 {
		t.Fatalf("appends %v: want 2 (the repeated one refused)", a)
	}
}

func TestRateLimitIsWaitedOut(t *testing.T) {
	f := testenv.Dropbox(t)
	d := open(t, f, "/PgSafe")
	d.retry.Attempts = 3
	f.Throttle(2)
	if err := d.Put(context.Background(), "a", strings.NewReader("x")); err != nil {
		t.Fatalf("two 429s with Retry-After, then success: %v", err)
	}
	f.Throttle(3)
	err := d.Put(context.Background(), "b", strings.NewReader("x"))
	if err == nil || !strings.Contains(err.Error(), "limiting PgSafe's requests") {
		t.Fatalf("three 429s of three attempts: %v", err)
	}
	if _, ok := f.File("/PgSafe/b"); ok {
		t.Fatal("a refused Put stored a file")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	f := testenv.Dropbox(t)
	d := open(t, f, "/PgSafe")
	if err := d.Put(ctx, "x", strings.NewReader("1")); err != nil {
		t.Fatal(err)
	}

	// A wrong token (the sign-in of another account, or garbage).
	wrong := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "Bearer nope")
		return http.DefaultTransport.RoundTrip(r)
	})}
	_, err := New(ctx, Config{Folder: "/PgSafe", Client: wrong, APIURL: f.URL, ContentURL: f.URL})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "sign in to Dropbox again") {
		t.Fatalf("wrong token: %v", err)
	}
	if svc, ok := oauth.ReauthIn(err.Error()); !ok || svc != "Dropbox" {
		t.Fatalf("the status model does not see %q as 'sign in to Dropbox again'", err)
	}

	if a, err := d.Account(ctx); err != nil || a != f.Email {
		t.Fatalf("Account = %q, %v", a, err)
	}

	// The folder is a file.
	_, err = New(ctx, Config{Folder: "/PgSafe/x", Client: f.Client(), APIURL: f.URL, ContentURL: f.URL})
	if err == nil || !strings.Contains(err.Error(), "is a file, not a folder: choose another folder") {
		t.Fatalf("a file as the folder: %v", err)
	}

	// Full.
	f.Quota = 10
	err = d.Put(ctx, "y", strings.NewReader("0123456789"))
	if err == nil || !strings.Contains(err.Error(), "Dropbox account is full") {
		t.Fatalf("full: %v", err)
	}
	if free, total, err := d.Space(ctx); err != nil || free != 9 || total != 10 {
		t.Fatalf("Space = %d, %d, %v; want 9 of 10", free, total, err)
	}

	// Revoked: every operation says to sign in again.
	f.Revoke()
	for what, err := range map[string]error{
		"put":    d.Put(ctx, "z", strings.NewReader("1")),
		"list":   func() error { _, err := d.List(ctx, ""); return err }(),
		"delete": d.Delete(ctx, "x"),
	} {
		if !errors.Is(err, ErrSignIn) {
			t.Errorf("%s after revoking: %v", what, err)
		}
	}

	// Gone: nothing answers.
	dead := &Dropbox{folder: "/PgSafe", api: "http://127.0.0.1:1", content: "http://127.0.0.1:1", client: http.DefaultClient, retry: d.retry}
	dead.retry.Attempts = 1
	if _, err := dead.List(ctx, ""); err == nil || !strings.Contains(err.Error(), "check the network connection") {
		t.Fatalf("server gone: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNonASCIINamesAndNoSecretInOutput(t *testing.T) {
	f := testenv.Dropbox(t)
	d := open(t, f, "/Sauvegardes été")
	ctx := context.Background()
	if err := d.Put(ctx, "base/données ☃.pgsafe", strings.NewReader("ok")); err != nil {
		t.Fatal(err)
	}
	list, err := d.List(ctx, "base/")
	if err != nil || len(list) != 1 || list[0].Name != "base/données ☃.pgsafe" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("storage", "s", d)
	f.Revoke()
	_, err = d.Stat(ctx, "base/données ☃.pgsafe")
	for _, out := range []string{logs.String(), err.Error(), d.String()} {
		if strings.Contains(out, f.Token) {
			t.Fatalf("the token is in %q", out)
		}
	}
	if !errors.Is(err, ErrSignIn) || storage.IsNotFound(err) {
		t.Fatalf("Stat after revoking: %v", err)
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
	d := &Dropbox{folder: "/PgSafe", api: srv.URL, content: srv.URL, client: srv.Client(), retry: webapi.Retry{Attempts: 1, Base: time.Millisecond, MaxWait: time.Millisecond}}
	err := d.Put(context.Background(), "x", strings.NewReader("data"))
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("Put to a silent server: %v", err)
	}
}
