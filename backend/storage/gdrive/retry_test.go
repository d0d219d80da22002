package gdrive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv/fakegoogle"
	"github.com/pgsafe/pgsafe/backend/storage"
)

const kib = 1 << 10

// readBack opens name and returns its bytes.
func readBack(t *testing.T, s storage.Storage, name string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return got
}

// A backup of several chunks goes up whole through what Google answers
// when busy: chunks refused (503, 429, 403 userRateLimitExceeded) or cut
// off (the connection closed with no answer), a chunk
// of which the session kept only part before its 503 (the status query
// says so), a status query that itself fails, a success that kept part of
// the chunk, and rate limits on starting the upload, creating the
// placeholder and renaming it.
func TestUploadThroughFailures(t *testing.T) {
	g := fake(t)
	const chunk = 1024 * kib
	s := signedIn(t, g, "PgSafe", chunk)
	data := make([]byte, 5*chunk+12345)
	rand.Read(data)
	faults := []fakegoogle.Fault{
		{Endpoint: "create", Times: 1, Status: 429},
		{Endpoint: "session", Times: 1, Status: 503},
		{Endpoint: "chunk", Times: 1, Status: 503},                  // chunk 1: nothing kept
		{Endpoint: "chunk", Times: 1, Status: 503, Keep: 512 * kib}, // chunk 1 again: half kept
		{Endpoint: "status", Times: 1, Status: 502},                 // the status query fails once
		{Endpoint: "chunk", Times: 1, Status: 308, Keep: 256 * kib}, // the rest of chunk 1: a quarter kept
		{Endpoint: "chunk", Times: 2, Status: 429},                  // rate limited
		{Endpoint: "chunk", Times: 1, Status: 403},                  // userRateLimitExceeded
		{Endpoint: "chunk", Times: 1, Status: 504, Keep: 256 * kib},
		{Endpoint: "chunk", Times: 1, Status: 0, Keep: 256 * kib}, // the connection is cut
		{Endpoint: "rename", Times: 1, Status: 500},
	}
	g.Inject(faults...)
	want := 0
	for _, f := range faults {
		want += f.Times
	}
	if err := s.Put(context.Background(), "crm/big.pgsafe", bytes.NewReader(data)); err != nil {
		t.Fatalf("Put through injected failures: %v", err)
	}
	if g.Pending() != 0 || g.Injected() != want {
		t.Fatalf("the fake failed %d requests, %d failures left; want all %d", g.Injected(), g.Pending(), want)
	}
	if got := readBack(t, s, "crm/big.pgsafe"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d sent (or different ones)", len(got), len(data))
	}
	if fs := g.Files(".pgsafe-tmp-"); len(fs) != 0 {
		t.Fatalf("placeholders left: %d", len(fs))
	}
	if n := g.MaxChunk(); n > chunk {
		t.Fatalf("largest chunk sent: %d bytes; want at most the chunk size %d", n, chunk)
	}
}

// An upload session that expired on the first chunk (404) is started again
// (the chunk is still in memory); one that expired later cannot resume,
// which the error says, and the placeholder goes.
func TestUploadSessionExpired(t *testing.T) {
	g := fake(t)
	const chunk = 256 * kib
	s := signedIn(t, g, "PgSafe", chunk)
	ctx := context.Background()
	data := make([]byte, 3*chunk+7)
	rand.Read(data)

	g.Inject(fakegoogle.Fault{Endpoint: "chunk", Times: 1, Status: 503, Expire: true})
	if err := s.Put(ctx, "a", bytes.NewReader(data)); err != nil {
		t.Fatalf("Put whose session expired at the first chunk: %v", err)
	}
	if g.Pending() != 0 {
		t.Fatal("the expiry was not injected")
	}
	if got := readBack(t, s, "a"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}

	// The first chunk goes through whole (a 308 that kept it all, as
	// without a fault); the second's session is gone.
	g.Inject(fakegoogle.Fault{Endpoint: "chunk", Times: 1, Status: 308, Keep: chunk}, fakegoogle.Fault{Endpoint: "chunk", Times: 1, Status: 503, Expire: true})
	err := s.Put(ctx, "b", bytes.NewReader(data))
	if err == nil {
		t.Fatal("Put whose session expired after its first chunk succeeded")
	}
	for _, w := range []string{"Google Drive", "404", "back up again"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if fs := g.Files(".pgsafe-tmp-"); len(fs) != 0 {
		t.Fatalf("placeholders left: %d", len(fs))
	}
	if _, err := s.Stat(ctx, "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of the failed Put: %v", err)
	}
}

// Listing, reading, describing and deleting go through rate limits (429
// with Retry-After, 403 rateLimitExceeded) and server errors.
func TestRequestsThroughRateLimits(t *testing.T) {
	g := fake(t)
	s := signedIn(t, g, "PgSafe", 0)
	ctx := context.Background()
	for _, n := range []string{"db/a", "db/b"} {
		if err := s.Put(ctx, n, strings.NewReader("content of "+n)); err != nil {
			t.Fatal(err)
		}
	}
	inject := func(f ...fakegoogle.Fault) {
		t.Helper()
		if g.Pending() != 0 {
			t.Fatalf("%d injected failures were not met", g.Pending())
		}
		g.Inject(f...)
	}

	inject(fakegoogle.Fault{Endpoint: "list", Times: 2, Status: 429}, fakegoogle.Fault{Endpoint: "list", Times: 1, Status: 403}, fakegoogle.Fault{Endpoint: "list", Times: 1, Status: 503})
	if list, err := s.List(ctx, "db/"); err != nil || len(list) != 2 {
		t.Fatalf("List through rate limits = %v, %v", list, err)
	}

	inject(fakegoogle.Fault{Endpoint: "list", Times: 1, Status: 500}, fakegoogle.Fault{Endpoint: "download", Times: 2, Status: 429}, fakegoogle.Fault{Endpoint: "download", Times: 1, Status: 502})
	if got := readBack(t, s, "db/a"); string(got) != "content of db/a" {
		t.Fatalf("Open through rate limits read %q", got)
	}

	inject(fakegoogle.Fault{Endpoint: "list", Times: 1, Status: 403})
	if info, err := s.Stat(ctx, "db/b"); err != nil || info.Size != int64(len("content of db/b")) {
		t.Fatalf("Stat through a rate limit = %+v, %v", info, err)
	}

	inject(fakegoogle.Fault{Endpoint: "list", Times: 1, Status: 429}, fakegoogle.Fault{Endpoint: "delete", Times: 1, Status: 503}, fakegoogle.Fault{Endpoint: "delete", Times: 1, Status: 429})
	if err := s.Delete(ctx, "db/a"); err != nil {
		t.Fatalf("Delete through rate limits: %v", err)
	}
	if g.Pending() != 0 {
		t.Fatalf("%d injected failures were not met", g.Pending())
	}
	if fs := g.Files("db/"); len(fs) != 1 || fs[0].Name != "db/b" {
		t.Fatalf("after deleting db/a Drive holds %+v", fs)
	}
}

// A failure that lasts past the bound (5 attempts) fails the request with
// words that name Google Drive, the status and what to do — and no more
// requests than the bound were made.
func TestFailurePastTheBound(t *testing.T) {
	g := fake(t)
	s := signedIn(t, g, "PgSafe", 256*kib)
	ctx := context.Background()
	if err := s.Put(ctx, "db/a", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, left int, words ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s succeeded through a lasting failure", what)
		}
		t.Logf("%s: %v", what, err)
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", what, err, w)
			}
		}
		if p := g.Pending(); p != left {
			t.Errorf("%s: %d injected failures left; want %d (5 attempts of 10)", what, p, left)
		}
		g.Clear()
	}

	g.Inject(fakegoogle.Fault{Endpoint: "list", Times: 10, Status: 503})
	_, err := s.List(ctx, "")
	check("List through lasting 503s", err, 5, "Google Drive", "HTTP 503", "try again")

	g.Inject(fakegoogle.Fault{Endpoint: "list", Times: 10, Status: 403})
	_, err = s.List(ctx, "")
	check("List through a lasting rate limit", err, 5, "Google Drive", "HTTP 403", "userRateLimitExceeded", "wait a few minutes")

	// A chunk refused, then status queries that keep failing.
	data := make([]byte, 2*256*kib+1)
	g.Inject(fakegoogle.Fault{Endpoint: "chunk", Times: 1, Status: 503}, fakegoogle.Fault{Endpoint: "status", Times: 10, Status: 503})
	err = s.Put(ctx, "db/b", bytes.NewReader(data))
	check("Put through lasting 503s", err, 6, "Google Drive", "HTTP 503", "try again")
	if fs := g.Files(".pgsafe-tmp-"); len(fs) != 0 {
		t.Fatalf("placeholders left: %d", len(fs))
	}
}
