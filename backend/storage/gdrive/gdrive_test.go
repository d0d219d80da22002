package gdrive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv/fakegoogle"
	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/gdrive"
	"github.com/pgsafe/pgsafe/backend/storage/internal/webapi"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

// signedIn signs in to the fake through the whole browser flow and opens
// the folder.
func signedIn(t *testing.T, g *fakegoogle.Server, folder string, chunk int) *gdrive.Storage {
	t.Helper()
	ctx := context.Background()
	p := provider(g)
	grant, err := oauth.SignIn(ctx, p, func(u string) error {
		go g.Approve(u, true)
		return nil
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gdrive.New(ctx, gdrive.Config{APIURL: p.APIURL, UploadURL: p.UploadURL, Folder: folder, Chunk: chunk, Retry: fastRetry,
		HTTP: oauth.Client(ctx, oauth.TokenSource(ctx, p, grant.RefreshToken, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastRetry is webapi.DefaultRetry's bound with waits of a millisecond: no
// test waits for real (the fake's 429s say Retry-After: 0).
var fastRetry = webapi.Retry{Attempts: 5, Base: time.Millisecond, MaxWait: time.Millisecond}

func provider(g *fakegoogle.Server) oauth.Provider {
	p, _ := oauth.Lookup("gdrive")
	return p.WithClient(g.ClientID, "")
}

func fake(t *testing.T) *fakegoogle.Server {
	g := fakegoogle.Start(t)
	t.Setenv("PGSAFE_OAUTH_BASE_GDRIVE", g.URL)
	return g
}

func TestConformance(t *testing.T) {
	g := fake(t)
	s := signedIn(t, g, "PgSafe/conformance", 256<<10)
	storagetest.Run(t, s)
	if g.Folder("PgSafe/conformance") == nil {
		t.Fatal("the folder PgSafe/conformance was not created")
	}
	if n := g.MaxChunk(); n == 0 || n > 256<<10 {
		t.Fatalf("largest chunk sent: %d bytes; want at most the 256 KiB chunk size", n)
	}
}

// Streams of every length around the chunk size arrive whole: the last
// chunk is found by reading one byte ahead.
func TestChunkBoundaries(t *testing.T) {
	g := fake(t)
	const chunk = 256 << 10
	s := signedIn(t, g, "PgSafe", chunk)
	ctx := context.Background()
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 5} {
		data := make([]byte, n)
		rand.Read(data)
		// A reader that hands out few bytes at a time, like a pipe.
		if err := s.Put(ctx, "sizes/x", io.LimitReader(&slowReader{bytes.NewReader(data)}, int64(n))); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		rc, err := s.Open(ctx, "sizes/x")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d", n, len(got))
		}
	}
	if fs := g.Files("sizes/"); len(fs) != 1 {
		t.Fatalf("after 7 Puts of one name Drive holds %d files of it; want 1", len(fs))
	}
	if fs := g.Files(".pgsafe-tmp-"); len(fs) != 0 {
		t.Fatalf("placeholders left: %+v", fs)
	}
}

type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 1000)]) }

// List reads every page.
func TestListPages(t *testing.T) {
	g := fake(t)
	g.PageMax = 2
	s := signedIn(t, g, "PgSafe", 0)
	ctx := context.Background()
	for _, n := range []string{"db/e", "db/a", "db/d", "other/x", "db/c", "db/b"} {
		if err := s.Put(ctx, n, strings.NewReader(n)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List(ctx, "db/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range list {
		names = append(names, i.Name)
	}
	if strings.Join(names, " ") != "db/a db/b db/c db/d db/e" {
		t.Fatalf("List = %v", names)
	}
}

// A revoked grant is its own error, in words that say what to do, and never
// contains a token.
func TestRevokedGrant(t *testing.T) {
	g := fake(t)
	s := signedIn(t, g, "PgSafe", 0)
	ctx := context.Background()
	g.Revoke()
	_, err := s.List(ctx, "")
	if !oauth.IsReauth(err) {
		t.Fatalf("List after the grant was revoked: %v; want a ReauthError", err)
	}
	if want := "sign in to Google Drive again"; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q does not start with %q", err, want)
	}
	if strings.Contains(err.Error(), "fake-") {
		t.Fatalf("error shows a token: %q", err)
	}
	if err := s.Put(ctx, "x", strings.NewReader("x")); !oauth.IsReauth(err) {
		t.Fatalf("Put after the grant was revoked: %v", err)
	}
}

// A folder the user deleted in Drive is made again at the next open; a
// missing object is ErrNotFound.
func TestFolderGone(t *testing.T) {
	g := fake(t)
	s := signedIn(t, g, "Backups/PgSafe", 0)
	ctx := context.Background()
	if err := s.Put(ctx, "a", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	g.DeleteFile(g.Folder("Backups").ID)
	if _, err := s.Open(ctx, "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Open in a deleted folder: %v", err)
	}
	err := s.Put(ctx, "b", strings.NewReader("b"))
	if err == nil || !strings.Contains(err.Error(), "Google Drive folder Backups/PgSafe") {
		t.Fatalf("Put into a deleted folder: %v", err)
	}
	s2 := signedIn(t, g, "Backups/PgSafe", 0)
	if err := s2.Put(ctx, "b", strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	if acct, err := s2.Account(ctx); err != nil || acct != g.Email {
		t.Fatalf("Account = %q, %v", acct, err)
	}
}
