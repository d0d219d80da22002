package engine

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pgsafe/pgsafe/backend/update"
)

// The update checks against a real local HTTPS feed: a newer release is
// offered with this OS's download page, the same one is up to date, a feed
// that fails says why and keeps the release found before; every change is
// told.
func TestUpdatesCheck(t *testing.T) {
	var feed atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := feed.Load().(string)
		if body == "" {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	var mu sync.Mutex
	var told []update.Status
	u := NewUpdates(update.Options{Feed: srv.URL + "/feed.json", Version: "0.1.0", OS: "windows", RootCAs: pool},
		func(st update.Status) { mu.Lock(); told = append(told, st); mu.Unlock() }, nil)
	if st := u.Status(); !st.Enabled || st.Current != "0.1.0" || st.Latest != nil || !st.CheckedAt.IsZero() {
		t.Fatalf("before a check: %+v", st)
	}

	feed.Store(`{"version":"0.2.0","url":"https://example.org/v0.2.0","downloads":{"windows":"https://example.org/setup.exe"}}`)
	st := u.Check(context.Background())
	if !st.Available || st.Latest.Version != "0.2.0" || st.DownloadPage != "https://example.org/setup.exe" || st.Error != "" || st.CheckedAt.IsZero() || st.Checking {
		t.Fatalf("a newer release: %+v", st)
	}
	mu.Lock()
	if len(told) != 2 || !told[0].Checking || told[1].Checking || !told[1].Available {
		t.Errorf("told %+v; want checking, then the result", told)
	}
	mu.Unlock()

	feed.Store(`{"version":"0.1.0","url":"https://example.org/v0.1.0"}`)
	if st := u.Check(context.Background()); st.Available || st.Latest.Version != "0.1.0" || st.DownloadPage != "https://example.org/v0.1.0" || st.Error != "" {
		t.Fatalf("the same version: %+v", st)
	}

	feed.Store(`{"version":"0.2.0","url":"https://example.org/v0.2.0"}`)
	u.Check(context.Background())
	feed.Store("")
	st = u.Check(context.Background())
	if !strings.Contains(st.Error, "answered 503 Service Unavailable") || st.FailedAt.IsZero() || !st.Available || st.Latest.Version != "0.2.0" {
		t.Fatalf("a failing feed: %+v; want the error and the release found before", st)
	}
	if u.Status().Error != st.Error {
		t.Errorf("Status after the failure: %+v", u.Status())
	}
}

// A build without a feed never checks; one with an http feed says why not.
func TestUpdatesWithoutAFeed(t *testing.T) {
	told := 0
	u := NewUpdates(update.Options{Version: "0.1.0", OS: "linux"}, func(update.Status) { told++ }, nil)
	if st := u.Check(context.Background()); st.Enabled || st.Checking || !st.CheckedAt.IsZero() || st.Error != "" || told != 0 {
		t.Fatalf("no feed: %+v, told %d times", st, told)
	}
	u = NewUpdates(update.Options{Feed: "http://example.org/feed.json", Version: "0.1.0", OS: "linux"}, nil, nil)
	if st := u.Check(context.Background()); !st.Enabled || !strings.Contains(st.Error, "not an https:// address") {
		t.Fatalf("an http feed: %+v", st)
	}
}

func TestAutoUpdateChecksSetting(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	if on, err := e.AutoUpdateChecks(ctx); !on || err != nil {
		t.Fatalf("default: %v, %v; want on", on, err)
	}
	if err := e.SetAutoUpdateChecks(ctx, false); err != nil {
		t.Fatal(err)
	}
	if on, err := e.AutoUpdateChecks(ctx); on || err != nil {
		t.Fatalf("after turning off: %v, %v", on, err)
	}
	if err := e.SetAutoUpdateChecks(ctx, false); err != nil { // unchanged: not audited again
		t.Fatal(err)
	}
	if err := e.SetAutoUpdateChecks(ctx, true); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.AutoUpdateChecks(ctx); !on {
		t.Fatal("after turning on again: off")
	}
	if got := audit.actions(); got != "settings.changed:ok,settings.changed:ok" {
		t.Errorf("audited %q; want two settings changes", got)
	}
}
