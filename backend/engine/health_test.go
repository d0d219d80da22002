package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// TestHealthMonitor: a database whose role stops being able to log in goes
// down after the set number of failed checks (one event, audited), and up
// again on the first good check; every check is in the history.
func TestHealthMonitor(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE ROLE reader LOGIN PASSWORD 'reader-pw-58'`)
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-58", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetHealthPolicy(ctx, "shop", HealthPolicy{IntervalSeconds: 5}); err == nil {
		t.Fatal("a 5 s interval was accepted")
	}
	if err := e.SetHealthPolicy(ctx, "shop", HealthPolicy{IntervalSeconds: 60, FailuresBeforeDown: 2}); err != nil {
		t.Fatal(err)
	}
	var events []HealthEvent
	m := e.NewHealthMonitor(func(ev HealthEvent) { events = append(events, ev) })
	now := time.Now()
	step := func(d time.Duration) { now = now.Add(d); m.Tick(ctx, now) }

	step(0)
	step(30 * time.Second) // not due yet
	srv.Exec(t, "postgres", `ALTER ROLE reader NOLOGIN`)
	step(31 * time.Second) // failure 1
	if len(events) != 0 {
		t.Fatalf("down after one failure: %+v", events)
	}
	step(60 * time.Second) // failure 2: down
	step(60 * time.Second) // failure 3: still down, no new event
	if len(events) != 1 || events[0].Up || events[0].Failures != 2 || !strings.Contains(events[0].Error, "reader") {
		t.Fatalf("events after failures: %+v", events)
	}
	srv.Exec(t, "postgres", `ALTER ROLE reader LOGIN`)
	step(60 * time.Second)
	if len(events) != 2 || !events[1].Up {
		t.Fatalf("events after recovery: %+v", events)
	}
	hist, err := e.HealthHistory(ctx, "shop", 0)
	if err != nil || len(hist) != 5 {
		t.Fatalf("history %d checks (%v), want 5", len(hist), err)
	}
	if !hist[0].OK || hist[1].OK || hist[1].Error == "" || !hist[4].OK {
		t.Fatalf("history %+v", hist)
	}
	if got := audit.actions(); !strings.HasSuffix(got, "health_policy.changed:ok,database.down:failed,database.up:ok") {
		t.Fatalf("audited %s", got)
	}
}
