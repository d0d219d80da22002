package agent_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/ui"
	"github.com/pgsafe/pgsafe/backend/update"
)

// The agent checks a local HTTPS feed on its own once it has started, and
// tells its faces what it found (update:status); with NoUpdateChecks it
// never asks the feed.
func TestAgentChecksForUpdates(t *testing.T) {
	testenv.Keychain(t)
	requests := make(chan string, 8)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- r.URL.RawQuery
		fmt.Fprint(w, `{"version":"0.2.0","url":"https://example.org/v0.2.0"}`)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	feed := &update.Options{Feed: srv.URL + "/feed.json", Version: "0.1.0", OS: "linux", RootCAs: pool}

	run := func(t *testing.T, noChecks bool) *agent.Client {
		home := shortTemp(t)
		t.Setenv(paths.EnvHome, home)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			done <- agent.Run(ctx, agent.Options{Home: home, Core: ui.CoreOptions{CreateKey: true, Updates: feed},
				NoUpdateChecks: noChecks, UpdateSchedule: update.Schedule{First: time.Millisecond, Every: time.Hour, Retry: time.Hour}},
				func(*agent.Agent) { close(started) })
		}()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("the agent: %v", err)
			}
		})
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("the agent ended at start: %v", err)
		}
		c := agent.NewClient(home)
		t.Cleanup(c.Close)
		return c
	}

	t.Run("on", func(t *testing.T) {
		c := run(t, false)
		select {
		case q := <-requests:
			if q != "os=linux&v=0.1.0" {
				t.Errorf("the agent asked with %q", q)
			}
		case <-time.After(time.Minute):
			t.Fatal("the agent did not check the feed after it started")
		}
		// The faces read what it found: its status now, or (while the check
		// is finishing) the update:status that says it ended.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stream, err := c.Follow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var st ui.UpdateStatus
		if err := c.Call(ctx, "SystemService.UpdateStatus", &st); err != nil {
			t.Fatal(err)
		}
		for st.Checking || st.CheckedAt == "" && st.Error == "" {
			ev, err := stream.Next()
			if err != nil {
				t.Fatalf("no update:status after the check: %v", err)
			}
			if ev.Name == ui.EventUpdates {
				st = ui.UpdateStatus{}
				if err := json.Unmarshal(ev.Data, &st); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !st.Available || st.Latest != "0.2.0" || st.DownloadURL != "https://example.org/v0.2.0" {
			t.Fatalf("UpdateStatus = %+v", st)
		}
	})

	t.Run("off", func(t *testing.T) {
		c := run(t, true)
		// Check now still works; the agent asked nothing before it.
		var st ui.UpdateStatus
		if err := c.Call(context.Background(), "SystemService.CheckForUpdates", &st); err != nil || !st.Available {
			t.Fatalf("Check now: %+v, %v", st, err)
		}
		if n := len(requests); n != 1 {
			t.Fatalf("%d requests; want only Check now's", n)
		}
	})
}
