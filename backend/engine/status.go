package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/schedule"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// DatabaseStatus is one database's state (see package status) with what a
// face shows beside it.
type DatabaseStatus struct {
	Name string `json:"name"`
	// Server is the server entry a server's database belongs to; a server
	// entry's own status has AllDatabases, and its state is the worst of
	// its own (listing the server, its schedule) and its databases'.
	Server       string `json:"server,omitempty"`
	AllDatabases bool   `json:"all_databases,omitempty"`
	status.Status
	NextRun time.Time `json:"-"` // zero: no schedule
	// History is what the state was computed from: the newest backups
	// (statusHistory at most), newest first, damaged records included.
	History []store.Backup `json:"-"`
	// Appeared, for a server entry, are its databases (entry names) that
	// were new on the server at its latest run: included then, and said so.
	Appeared []string `json:"appeared,omitempty"`
}

// appeared are the databases new on the server at a server entry's latest
// run (history newest first): none at its first run, or at a run where
// every database was new (nothing was backed up before).
func appeared(history []store.Backup) []string {
	for _, b := range history {
		m, ok := RunOf(b)
		if !ok {
			continue
		}
		var fresh []string
		old := 0
		for _, d := range m.Databases {
			if d.New {
				fresh = append(fresh, d.Entry)
			} else {
				old++
			}
		}
		if old == 0 {
			return nil
		}
		return fresh
	}
	return nil
}

// Overall is the state of every database together and whether a recovery
// kit of this machine's key was ever exported.
type Overall struct {
	Databases           []DatabaseStatus `json:"databases"`
	RecoveryKitExported bool             `json:"recovery_kit_exported"`
}

// State is the worst state of all databases (Protected when there are none).
func (o Overall) State() status.State {
	s := status.Protected
	for _, d := range o.Databases {
		s = status.Worse(s, d.State)
	}
	return s
}

// statusHistory is how many backups of a database the status reads: the
// newest good one is nearly always among the newest few.
const statusHistory = 50

// Status computes the state of every database (or only the one named) from
// what is recorded: its history, its newest check, its health checks and
// its schedule.
func (e *Engine) Status(ctx context.Context, only string) (Overall, error) {
	dbs, err := e.store.Databases(ctx)
	if err != nil {
		return Overall{}, err
	}
	var out Overall
	out.Databases = []DatabaseStatus{}
	now := time.Now()
	pausedUntil, paused, err := e.SchedulesPaused(ctx)
	if err != nil {
		return Overall{}, err
	}
	kit, err := e.recoveryKitSaved(ctx)
	if err != nil {
		return Overall{}, err
	}
	out.RecoveryKitExported = kit
	names := map[int64]string{}
	for _, d := range dbs {
		names[d.ID] = d.Name
	}
	for _, d := range dbs {
		if only != "" && d.Name != only && names[d.ServerEntry] != only {
			continue
		}
		owner := d.ID // whose schedule and health checks apply
		if d.ServerEntry != 0 {
			owner = d.ServerEntry
		}
		in := status.Input{Now: now, Paused: paused, PausedUntil: pausedUntil, NoRecoveryKit: !kit, Gone: d.Gone,
			WriteAccess: d.Verdict == string(pg.VerdictWriteAccess), WriteAccepted: d.WriteAccepted, CheckedAt: d.CheckedAt}
		// A server entry's runs carry their manifests (a line per
		// database: appeared reads them); a database's list every table
		// and are not needed here.
		if in.Backups, err = e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Limit: statusHistory, IncludeDamaged: true, Manifests: d.AllDatabases}); err != nil {
			return Overall{}, fmt.Errorf("status of %s: %w", d.Name, err)
		}
		var next time.Time
		sc, err := e.store.Schedule(ctx, owner)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Overall{}, fmt.Errorf("status of %s: %w", d.Name, err)
		case sc.Enabled:
			next = sc.NextRunAt
			in.Interval = interval(sc.ScheduleConfig, now)
		}
		if lc, err := e.LastCheck(ctx, d.Name); err != nil {
			return Overall{}, fmt.Errorf("status of %s: %w", d.Name, err)
		} else if !lc.When.IsZero() {
			in.LastCheck = &status.Check{Kind: lc.Kind, When: lc.When, OK: lc.OK, Problem: lc.Problem}
		}
		if err := e.healthInput(ctx, owner, &in); err != nil {
			return Overall{}, fmt.Errorf("status of %s: %w", d.Name, err)
		}
		out.Databases = append(out.Databases, DatabaseStatus{Name: d.Name, Server: names[d.ServerEntry], AllDatabases: d.AllDatabases,
			Status: status.Of(in), NextRun: next, History: in.Backups})
	}
	for i := range out.Databases {
		if s := &out.Databases[i]; s.AllDatabases {
			var children []status.Child
			for _, c := range out.Databases {
				if c.Server == s.Name {
					children = append(children, status.Child{Name: strings.TrimPrefix(c.Name, s.Name+"/"), Status: c.Status})
				}
			}
			s.Status = status.OfServer(s.Status, children)
			s.Appeared = appeared(s.History)
		}
	}
	if only != "" && len(out.Databases) == 0 {
		return Overall{}, notFound("db", only)
	}
	return out, nil
}

// recoveryKitSaved says whether the user holds a recovery kit of the key in
// use: it was exported or imported (audited as key.exported, key.imported),
// or the key was opened from a file they keep.
func (e *Engine) recoveryKitSaved(ctx context.Context) (bool, error) {
	if e.keySource.Kind != keys.SourceKeychain || e.auditLog == nil {
		return true, nil
	}
	evs, err := e.auditLog.List(ctx, audit.Filter{ActionPrefix: "key."})
	if err != nil {
		return false, err
	}
	id := e.key.ID().String()
	for _, ev := range evs {
		if (ev.Action == keys.EventKeyExported || ev.Action == keys.EventKeyImported) && ev.Fields["key_id"] == id {
			return true, nil
		}
	}
	return false, nil
}

// interval is the time between a schedule's runs from now on (0 if it has
// none).
func interval(cfg store.ScheduleConfig, now time.Time) time.Duration {
	a, err := schedule.Next(cfg, now)
	if err != nil {
		return 0
	}
	b, err := schedule.Next(cfg, a)
	if err != nil {
		return 0
	}
	return b.Sub(a)
}

// healthInput sets in.Down when the database's newest health checks all
// failed, as many as its policy counts as down.
func (e *Engine) healthInput(ctx context.Context, dbID int64, in *status.Input) error {
	pol, err := e.healthPolicy(ctx, dbID)
	if err != nil {
		return err
	}
	checks, err := e.store.HealthChecks(ctx, dbID, pol.failures())
	if err != nil {
		return err
	}
	if len(checks) < pol.failures() {
		return nil
	}
	for _, c := range checks {
		if c.OK {
			return nil
		}
	}
	in.Down, in.DownSince, in.DownReason = true, checks[len(checks)-1].At, checks[0].Error
	return nil
}
