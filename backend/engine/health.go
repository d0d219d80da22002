package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Health checks: per database, an optional periodic connection test. After
// FailuresBeforeDown failures in a row the database is "down" (one event);
// the first success after that makes it "up" again (one event). Every check
// is kept in the history (store.HealthCheck, the newest store.HealthKeep).

func healthKey(dbID int64) string { return "health." + strconv.FormatInt(dbID, 10) }

// HealthPolicy is a database's connectivity check; Interval 0 is off.
type HealthPolicy struct {
	IntervalSeconds    int `json:"intervalSeconds"`
	FailuresBeforeDown int `json:"failuresBeforeDown"` // 0 means 3
}

func (p HealthPolicy) failures() int {
	if p.FailuresBeforeDown <= 0 {
		return 3
	}
	return p.FailuresBeforeDown
}

// SetHealthPolicy sets the named database's connectivity check.
func (e *Engine) SetHealthPolicy(ctx context.Context, name string, p HealthPolicy) error {
	if p.IntervalSeconds < 0 || p.FailuresBeforeDown < 0 {
		return errors.New("health check: interval and failures must be 0 (off / default) or more")
	}
	if p.IntervalSeconds > 0 && p.IntervalSeconds < 10 {
		return errors.New("health check: check at most every 10 seconds")
	}
	d, err := e.policyEntry(ctx, name)
	if err != nil {
		return err
	}
	id := d.ID
	changed, err := e.saveJSON(ctx, healthKey(id), p)
	if err != nil || !changed {
		return err
	}
	return e.record(ctx, Event{Action: "health_policy.changed", Target: name,
		Fields: map[string]string{"interval_seconds": strconv.Itoa(p.IntervalSeconds), "failures_before_down": strconv.Itoa(p.failures())}})
}

// HealthPolicy is the named database's connectivity check (zero: off).
func (e *Engine) HealthPolicy(ctx context.Context, name string) (HealthPolicy, error) {
	id, err := e.dbID(ctx, name)
	if err != nil {
		return HealthPolicy{}, err
	}
	return e.healthPolicy(ctx, id)
}

func (e *Engine) healthPolicy(ctx context.Context, dbID int64) (HealthPolicy, error) {
	var p HealthPolicy
	return p, e.loadJSON(ctx, healthKey(dbID), &p)
}

// CheckHealth tests the named database's connection now (through its SSH
// tunnel, read-only, as backups connect) and records the result.
func (e *Engine) CheckHealth(ctx context.Context, name string) (store.HealthCheck, error) {
	d, c, err := e.database(ctx, name)
	if err != nil {
		return store.HealthCheck{}, err
	}
	h := store.HealthCheck{DatabaseID: d.ID, At: time.Now().UTC()}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, closeTunnel, err := connect(cctx, c)
	if err == nil {
		_, err = pg.Test(cctx, cfg)
		closeTunnel()
	}
	h.Latency = time.Since(start)
	h.OK = err == nil
	if err != nil {
		h.Error = err.Error()
	}
	if rerr := e.store.AddHealthCheck(context.WithoutCancel(ctx), h); rerr != nil {
		return h, rerr
	}
	return h, nil
}

// HealthHistory is the named database's checks, newest first.
func (e *Engine) HealthHistory(ctx context.Context, name string, limit int) ([]store.HealthCheck, error) {
	id, err := e.dbID(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.store.HealthChecks(ctx, id, limit)
}

// HealthEvent is a database going down or coming back.
type HealthEvent struct {
	Database string `json:"database"`
	Up       bool   `json:"up"`
	Failures int    `json:"failures"` // in a row, when down
	Error    string `json:"error,omitempty"`
}

// healthState is what the monitor remembers of one database.
type healthState struct {
	last     time.Time
	failures int
	down     bool
}

// HealthMonitor runs the databases' connectivity checks on their intervals.
type HealthMonitor struct {
	e        *Engine
	onChange func(HealthEvent)
	mu       sync.Mutex
	state    map[int64]*healthState
}

// NewHealthMonitor returns a monitor; onChange (may be nil) hears every
// down and up, which are also audited (database.down / database.up).
func (e *Engine) NewHealthMonitor(onChange func(HealthEvent)) *HealthMonitor {
	return &HealthMonitor{e: e, onChange: onChange, state: map[int64]*healthState{}}
}

// Run checks every database whose policy is due, every tick, until ctx ends.
func (m *HealthMonitor) Run(ctx context.Context, tick time.Duration) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		m.Tick(ctx, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs the checks due at now, one after another.
func (m *HealthMonitor) Tick(ctx context.Context, now time.Time) {
	dbs, err := m.e.store.Databases(ctx)
	if err != nil {
		m.e.log.Error("health checks: list databases", "err", err)
		return
	}
	for _, d := range dbs {
		if ctx.Err() != nil {
			return
		}
		p, err := m.e.healthPolicy(ctx, d.ID)
		if err != nil || p.IntervalSeconds == 0 {
			continue
		}
		m.mu.Lock()
		st := m.state[d.ID]
		if st == nil {
			st = &healthState{}
			m.state[d.ID] = st
		}
		due := now.Sub(st.last) >= time.Duration(p.IntervalSeconds)*time.Second
		m.mu.Unlock()
		if due {
			m.check(ctx, d.ID, d.Name, p, st, now)
		}
	}
}

func (m *HealthMonitor) check(ctx context.Context, dbID int64, name string, p HealthPolicy, st *healthState, now time.Time) {
	h, err := m.e.CheckHealth(ctx, name)
	if err != nil && h.At.IsZero() {
		m.e.log.Error("health check", "database", name, "err", err)
		return
	}
	m.mu.Lock()
	st.last = now
	var ev *HealthEvent
	if h.OK {
		st.failures = 0
		if st.down {
			st.down = false
			ev = &HealthEvent{Database: name, Up: true}
		}
	} else {
		st.failures++
		if !st.down && st.failures >= p.failures() {
			st.down = true
			ev = &HealthEvent{Database: name, Failures: st.failures, Error: h.Error}
		}
	}
	m.mu.Unlock()
	if ev == nil {
		return
	}
	action, outcome := "database.up", "ok"
	if !ev.Up {
		action, outcome = "database.down", "failed"
		m.e.log.Warn("database unreachable", "database", name, "failures", ev.Failures, "err", ev.Error)
	} else {
		m.e.log.Info("database reachable again", "database", name)
	}
	if err := m.e.record(context.WithoutCancel(ctx), Event{Action: action, Outcome: outcome, Target: name, Message: ev.Error}); err != nil {
		m.e.log.Error("audit a health change", "database", name, "err", err)
	}
	nev := notify.Event{Kind: notify.EventDatabaseUp, Database: name}
	if !ev.Up {
		nev.Kind, nev.Body = notify.EventDatabaseDown, fmt.Sprintf("%d connection checks in a row failed: %s", ev.Failures, ev.Error)
	}
	m.e.notify(nev)
	if m.onChange != nil {
		m.onChange(*ev)
	}
	m.e.StatusChanged(ctx, name)
}
