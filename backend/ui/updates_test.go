package ui

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

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/update"
)

// Settings' update checks against a real local HTTPS feed: "Check now"
// finds the newer release with its links, the tray offers it, each change
// is an update:status event; the daily check respects the setting.
func TestUpdateChecks(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, `{"version":"0.2.0","published":"2026-12-01","url":"https://example.org/v0.2.0","notes":"Faster.",
			"downloads":{"linux":"https://example.org/pgsafe_0.2.0_amd64.deb"}}`)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := NewCoreWith(nil, CoreOptions{CreateKey: true, Updates: &update.Options{Feed: srv.URL, Version: "0.1.0", OS: "linux", RootCAs: pool}})
	var mu sync.Mutex
	var events []UpdateStatus
	c.SetEmitter(func(ev string, data any) {
		if ev == EventUpdates {
			mu.Lock()
			events = append(events, data.(UpdateStatus))
			mu.Unlock()
		}
	})
	s := NewSystemService(c)
	ctx := context.Background()

	// While the settings are not open: nothing checks on its own.
	if _, ran := c.AutoCheckForUpdates(ctx); ran || requests.Load() != 0 {
		t.Fatalf("checked on its own before the settings opened (%d requests)", requests.Load())
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if st := s.UpdateStatus(); !st.Enabled || !st.Auto || !st.AutoKnown || st.Current != "0.1.0" || st.Available || st.CheckedAt != "" {
		t.Fatalf("before a check: %+v", st)
	}
	st := s.CheckForUpdates()
	want := UpdateStatus{Enabled: true, Auto: true, AutoKnown: true, Current: "0.1.0", CheckedAt: st.CheckedAt, Available: true, Latest: "0.2.0",
		Published: "2026-12-01", Notes: "Faster.", ReleaseURL: "https://example.org/v0.2.0", DownloadURL: "https://example.org/pgsafe_0.2.0_amd64.deb"}
	if st != want || st.CheckedAt == "" {
		t.Fatalf("Check now:\n got %+v\nwant %+v", st, want)
	}
	if v, page := c.UpdateOffer(); v != "0.2.0" || page != "https://example.org/pgsafe_0.2.0_amd64.deb" {
		t.Errorf("the tray's offer: %q %q", v, page)
	}
	mu.Lock()
	if len(events) != 2 || !events[0].Checking || events[1] != want {
		t.Errorf("events %+v; want checking, then the result", events)
	}
	mu.Unlock()

	// Turned off: the daily check does not run; "Check now" still does.
	if err := s.SetAutoUpdateChecks(false); err != nil {
		t.Fatal(err)
	}
	if st := s.UpdateStatus(); st.Auto || !st.AutoKnown {
		t.Fatalf("after turning the checks off: %+v", st)
	}
	before := requests.Load()
	if _, ran := c.AutoCheckForUpdates(ctx); ran || requests.Load() != before {
		t.Fatal("the daily check ran while turned off")
	}
	if s.CheckForUpdates(); requests.Load() != before+1 {
		t.Fatal("Check now did not check while the daily checks are off")
	}
	if err := s.SetAutoUpdateChecks(true); err != nil {
		t.Fatal(err)
	}
	if st, ran := c.AutoCheckForUpdates(ctx); !ran || !st.Available || requests.Load() != before+2 {
		t.Fatalf("the daily check when on: ran %v, %+v", ran, st)
	}
}

func TestNoUpdateFeed(t *testing.T) {
	c := NewCoreWith(nil, CoreOptions{Updates: &update.Options{Version: "0.1.0", OS: "linux"}})
	st := NewSystemService(c).CheckForUpdates()
	if st.Enabled || st.Checking || st.CheckedAt != "" || st.Error != "" {
		t.Fatalf("a build without a feed: %+v", st)
	}
	if _, ran := c.AutoCheckForUpdates(context.Background()); ran {
		t.Fatal("a build without a feed checked")
	}
	if err := NewSystemService(c).SetAutoUpdateChecks(false); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Fatalf("changing the setting without settings open: %v", err)
	}
}
