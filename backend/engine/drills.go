package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Restore drills run on a server the user designates (a local PostgreSQL,
// say) with a role that may create databases. Its connection string is a
// sealed setting; the UI only ever sees where it points.
const drillServerKey = "drill.server"

func drillPolicyKey(dbID int64) string { return "drill.policy." + strconv.FormatInt(dbID, 10) }

// DrillServer says where drills run; the password is never part of it.
type DrillServer struct {
	Set     bool   `json:"set"`
	Address string `json:"address,omitempty"` // user@host:port/database
}

// SetDrillServer stores the server drills run on, after checking the role
// can log in and create databases there. An empty url removes it.
func (e *Engine) SetDrillServer(ctx context.Context, url string) error {
	if url == "" {
		if err := e.store.DeleteSetting(ctx, drillServerKey); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return e.record(ctx, Event{Action: "settings.changed", Target: "drill server", Fields: map[string]string{"fields": "drill_server"}, Message: "removed"})
	}
	cfg, err := pg.ParseConnString(url)
	if err != nil {
		return err
	}
	if cfg.Database == "" {
		cfg.Database = "postgres"
	}
	conn, err := pg.Connect(ctx, cfg)
	if err != nil {
		return fmt.Errorf("drill server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var canCreate bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user").Scan(&canCreate); err != nil {
		return fmt.Errorf("drill server: %w", err)
	}
	if !canCreate {
		return fmt.Errorf("drill server: role %s cannot create databases; drills restore into a scratch database: ALTER ROLE %s CREATEDB, or use another role", cfg.User, cfg.User)
	}
	changed, err := e.store.SetSetting(ctx, drillServerKey, url)
	if err != nil || !changed {
		return err
	}
	return e.record(ctx, Event{Action: "settings.changed", Target: "drill server", Fields: map[string]string{"fields": "drill_server"}})
}

// DrillServer says whether and where drills run.
func (e *Engine) DrillServer(ctx context.Context) (DrillServer, error) {
	url, err := e.store.Setting(ctx, drillServerKey)
	if errors.Is(err, store.ErrNotFound) {
		return DrillServer{}, nil
	} else if err != nil {
		return DrillServer{}, err
	}
	cfg, err := pg.ParseConnString(url)
	if err != nil {
		return DrillServer{}, err
	}
	if cfg.Database == "" {
		cfg.Database = "postgres"
	}
	return DrillServer{Set: true, Address: cfg.String()}, nil
}

// ErrNoDrillServer: a drill was asked for but no drill server is set.
var ErrNoDrillServer = errors.New("no drill server is set: choose one in Settings (a PostgreSQL server and a role that can create databases) or pass --drill-url")

// DrillBackup restores b into a scratch database on the drill server and
// compares row counts (VerifyBackup with the stored drill server).
func (e *Engine) DrillBackup(ctx context.Context, b store.Backup) (*restore.Result, error) {
	url, err := e.store.Setting(ctx, drillServerKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoDrillServer
	} else if err != nil {
		return nil, err
	}
	return e.VerifyBackup(ctx, b, url)
}

// DrillPolicy says when a database's backups are drilled automatically:
// after every Nth backup, or when the last drill is older than N days
// (checked after each backup). Zero fields are off.
type DrillPolicy struct {
	EveryBackups int `json:"everyBackups"`
	EveryDays    int `json:"everyDays"`
}

// SetDrillPolicy sets the named database's automatic drills.
func (e *Engine) SetDrillPolicy(ctx context.Context, name string, p DrillPolicy) error {
	if p.EveryBackups < 0 || p.EveryDays < 0 {
		return errors.New("drill policy: counts must be 0 (off) or more")
	}
	id, err := e.dbID(ctx, name)
	if err != nil {
		return err
	}
	changed, err := e.saveJSON(ctx, drillPolicyKey(id), p)
	if err != nil || !changed {
		return err
	}
	return e.record(ctx, Event{Action: "drill_policy.changed", Target: name,
		Fields: map[string]string{"every_backups": strconv.Itoa(p.EveryBackups), "every_days": strconv.Itoa(p.EveryDays)}})
}

// DrillPolicy is the named database's automatic drills (zero: none).
func (e *Engine) DrillPolicy(ctx context.Context, name string) (DrillPolicy, error) {
	id, err := e.dbID(ctx, name)
	if err != nil {
		return DrillPolicy{}, err
	}
	return e.drillPolicy(ctx, id)
}

func (e *Engine) drillPolicy(ctx context.Context, dbID int64) (DrillPolicy, error) {
	var p DrillPolicy
	return p, e.loadJSON(ctx, drillPolicyKey(dbID), &p)
}

// drillDue reports whether the database's policy asks for a drill now,
// right after a successful backup.
func (e *Engine) drillDue(ctx context.Context, dbID int64, now time.Time) (bool, error) {
	p, err := e.drillPolicy(ctx, dbID)
	if err != nil || (p.EveryBackups == 0 && p.EveryDays == 0) {
		return false, err
	}
	drills, err := e.store.Restores(ctx, store.RestoreFilter{Kind: store.RunDrill, DatabaseID: dbID, Limit: 1})
	if err != nil {
		return false, err
	}
	if len(drills) == 0 {
		return true, nil
	}
	last := drills[0].StartedAt
	if p.EveryDays > 0 && now.Sub(last) >= time.Duration(p.EveryDays)*24*time.Hour {
		return true, nil
	}
	if p.EveryBackups > 0 {
		recent, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: dbID, Status: store.StatusSucceeded, Limit: p.EveryBackups})
		if err != nil {
			return false, err
		}
		since := 0
		for _, b := range recent {
			if b.StartedAt.After(last) {
				since++
			}
		}
		return since >= p.EveryBackups, nil
	}
	return false, nil
}

// drillAfterBackup runs the drill the policy asks for, in the background:
// the backup is finished and recorded already. The result goes into the
// history and the audit log; a failed drill is logged as an error.
func (e *Engine) drillAfterBackup(ctx context.Context, b store.Backup) {
	due, err := e.drillDue(ctx, b.DatabaseID, time.Now())
	if err != nil {
		e.log.Error("drill policy", "database", b.DatabaseName, "err", err)
	}
	if !due {
		return
	}
	e.background(func(ctx context.Context) {
		res, err := e.DrillBackup(WithOrigin(ctx, OriginDrillRule), b)
		switch {
		case err != nil:
			e.log.Error("restore drill could not run", "database", b.DatabaseName, "backup", b.ID, "err", err)
		case !res.OK:
			e.log.Error("restore drill failed", "database", b.DatabaseName, "backup", b.ID, "problem", res.Problem.Detail)
		default:
			e.log.Info("restore drill passed", "database", b.DatabaseName, "backup", b.ID, "tables", res.Tables)
		}
	})
}

// LastCheck is the newest verification or drill of a database's backups
// (ok false with zero When: never checked).
type LastCheck struct {
	Kind     string    `json:"kind"` // "verify" or "drill"
	When     time.Time `json:"when"`
	OK       bool      `json:"ok"`
	BackupID string    `json:"backupId"`
	Problem  string    `json:"problem,omitempty"`
}

// LastCheck is the named database's latest verification or drill.
func (e *Engine) LastCheck(ctx context.Context, name string) (LastCheck, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return LastCheck{}, notFound("db", name)
	} else if err != nil {
		return LastCheck{}, err
	}
	var best store.RestoreRecord
	for _, kind := range []string{store.RunVerify, store.RunDrill} {
		rs, err := e.store.Restores(ctx, store.RestoreFilter{Kind: kind, DatabaseID: d.ID, Limit: 1})
		if err != nil {
			return LastCheck{}, err
		}
		if len(rs) > 0 && rs[0].StartedAt.After(best.StartedAt) {
			best = rs[0]
		}
	}
	if best.Kind == "" {
		return LastCheck{}, nil
	}
	lc := LastCheck{Kind: best.Kind, When: best.FinishedAt, OK: best.Status == store.StatusSucceeded, BackupID: best.BackupID, Problem: best.Error}
	if len(best.Problems) > 0 {
		lc.Problem = best.Problems[0]
	}
	return lc, nil
}

// RunDueDrills drills the newest good backup of every database whose drill
// policy asks for one now (its last drill is N days old, say), one after
// another. The app and `pgsafe run` call it periodically, so drills keep
// their schedule even when no backup triggers them. It returns how many ran.
func (e *Engine) RunDueDrills(ctx context.Context, now time.Time) int {
	dbs, err := e.store.Databases(ctx)
	if err != nil {
		e.log.Error("due drills: list databases", "err", err)
		return 0
	}
	if ds, err := e.DrillServer(ctx); err != nil || !ds.Set {
		return 0
	}
	ran := 0
	for _, d := range dbs {
		if ctx.Err() != nil {
			break
		}
		due, err := e.drillDue(ctx, d.ID, now)
		if err != nil || !due {
			continue
		}
		bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Status: store.StatusSucceeded, Limit: 1})
		if err != nil || len(bs) == 0 {
			continue
		}
		ran++
		if res, err := e.DrillBackup(WithOrigin(ctx, OriginDrillRule), bs[0]); err != nil {
			e.log.Error("restore drill could not run", "database", d.Name, "backup", bs[0].ID, "err", err)
		} else if !res.OK {
			e.log.Error("restore drill failed", "database", d.Name, "backup", bs[0].ID, "problem", res.Problem.Detail)
		}
	}
	return ran
}

// RunDrillLoop calls RunDueDrills every interval until ctx ends.
func (e *Engine) RunDrillLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.RunDueDrills(ctx, now)
		}
	}
}
