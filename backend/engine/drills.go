package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/pgtools/scratch"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Restore drills run on a server the user designates (a local PostgreSQL,
// say) with a role that may create databases, or, with none set, in a
// throwaway cluster PgSafe starts itself (backend/pgtools/scratch). The
// drill server's connection string is a sealed setting; the UI only ever
// sees where it points.
const drillServerKey = "drill.server"

func drillPolicyKey(dbID int64) string { return "drill.policy." + strconv.FormatInt(dbID, 10) }

// DrillServer says where drills run; the password is never part of it.
// Without a drill server set, drills run in a throwaway PostgreSQL that
// PgSafe starts with the server programs found on this computer: Local
// names the newest found, LocalProblem says why there is none (and what to
// install).
type DrillServer struct {
	Set          bool   `json:"set"`
	Address      string `json:"address,omitempty"` // user@host:port/database
	Local        string `json:"local,omitempty"`   // e.g. "PostgreSQL 17.10 (/usr/lib/postgresql/17/bin)"
	LocalProblem string `json:"localProblem,omitempty"`
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
	var ds DrillServer
	servers := e.serverInstalls(ctx)
	if len(servers) > 0 {
		ds.Local = fmt.Sprintf("PostgreSQL %s (%s)", servers[0].Version, servers[0].Dir)
	} else {
		major := 17
		if cl := e.clients(ctx); len(cl) > 0 {
			major = cl[0].Version.Major
		}
		ds.LocalProblem = "No PostgreSQL server programs (initdb and postgres) were found on this computer. " + pgtools.ServerInstallAdvice(major)
	}
	if _, err := e.drillOwner(); err != nil {
		ds.LocalProblem = err.Error()
	}
	url, err := e.store.Setting(ctx, drillServerKey)
	if errors.Is(err, store.ErrNotFound) {
		return ds, nil
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
	ds.Set, ds.Address = true, cfg.String()
	return ds, nil
}

// DrillBackup restores b into a scratch database on the drill server, or,
// when none is set, into a throwaway local PostgreSQL (DrillBackupLocal),
// and compares row counts.
func (e *Engine) DrillBackup(ctx context.Context, b store.Backup) (*restore.Result, error) {
	url, err := e.store.Setting(ctx, drillServerKey)
	if errors.Is(err, store.ErrNotFound) {
		return e.DrillBackupLocal(ctx, b)
	} else if err != nil {
		return nil, err
	}
	return e.VerifyBackup(ctx, b, url)
}

// DrillBackupLocal drills b in a throwaway PostgreSQL that PgSafe starts
// with the server programs of this computer (the backup's major or the
// closest newer), whatever drill server is set: the result's RestoreTime
// is how long restoring it took there. It fails, recording nothing, when no
// such programs are found, saying what to install.
func (e *Engine) DrillBackupLocal(ctx context.Context, b store.Backup) (*restore.Result, error) {
	return e.checkBackup(ctx, b, true, "")
}

// localServer is what a drill without a drill server runs: the server
// programs and the account to run them as.
type localServer struct {
	install pgtools.ServerInstall
	owner   *scratch.Owner
}

// localServer picks the server programs for a backup of major (the closest
// at or above it), or says what to install.
func (e *Engine) localServer(ctx context.Context, major int) (*localServer, error) {
	in, err := pgtools.PickServer(e.serverInstalls(ctx), major)
	if err != nil {
		return nil, err
	}
	owner, err := e.drillOwner()
	if err != nil {
		return nil, err
	}
	return &localServer{install: in, owner: owner}, nil
}

// drill runs restore.Drill on the server drillURL names, or with drillURL
// empty in a throwaway cluster of local it starts and removes; target says
// where, for the history.
func (e *Engine) drill(ctx context.Context, src restore.Source, m *backup.Manifest, pgRestore, drillURL string, local *localServer) (res *restore.Result, target string, err error) {
	if drillURL != "" {
		srv, err := pg.ParseConnString(drillURL)
		if err != nil {
			return nil, "", err
		}
		res, err := restore.Drill(ctx, src, m, keys.Keys{e.key}, pgRestore, srv.ToolConn())
		if res != nil {
			res.Server = "drill server " + srv.String()
		}
		return res, srv.String(), err
	}
	in := local.install
	started := time.Now()
	cl, err := scratch.Start(ctx, scratch.Options{BinDir: in.Dir, Owner: local.owner})
	if err != nil {
		return nil, "", fmt.Errorf("start a throwaway PostgreSQL %s for the drill: %w", in.Version, err)
	}
	defer func() {
		if cerr := cl.Close(); cerr != nil {
			e.log.Warn("stop the drill's throwaway server", "dir", cl.Dir, "err", cerr)
		}
	}()
	target = fmt.Sprintf("local throwaway PostgreSQL %s (%s)", cl.Version, in.Dir)
	res, err = restore.Drill(ctx, src, m, keys.Keys{e.key}, pgRestore, cl.Conn("postgres"))
	if res != nil {
		res.Server = fmt.Sprintf("local throwaway PostgreSQL %d", cl.Version.Major)
		// The whole drill, starting the server included (stopping it is not:
		// it happens after the result is recorded).
		res.Started, res.Duration = started.UTC(), time.Since(started)
	}
	return res, target, err
}

// serverInstalls are the PostgreSQL server programs drills may use.
func (e *Engine) serverInstalls(ctx context.Context) []pgtools.ServerInstall {
	if e.drillServerDirs != nil {
		if len(e.drillServerDirs) == 0 {
			return nil
		}
		return pgtools.DiscoverServers(ctx, e.drillServerDirs...)
	}
	dirs := []string{}
	if dir, err := e.store.Setting(ctx, "pgtools.dir"); err == nil && dir != "" {
		dirs = append(dirs, dir)
	}
	return pgtools.DiscoverServers(ctx, dirs...)
}

// drillOwner is the account a throwaway server runs as: nil (this user)
// unless PgSafe runs as root, when Options.DrillUser or PGSAFE_DRILL_USER
// names one (else scratch.Start says PostgreSQL refuses root).
func (e *Engine) drillOwner() (*scratch.Owner, error) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		return nil, nil
	}
	name := e.drillUser
	if name == "" {
		name = os.Getenv("PGSAFE_DRILL_USER")
	}
	if name == "" {
		return nil, scratch.ErrRoot
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("the account for drill servers (PGSAFE_DRILL_USER): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || uid == 0 {
		return nil, fmt.Errorf("the account for drill servers (PGSAFE_DRILL_USER) %q must be an unprivileged user", name)
	}
	return &scratch.Owner{Name: u.Username, Uid: uint32(uid), Gid: uint32(gid)}, nil
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
	d, err := e.policyEntry(ctx, name)
	if err != nil {
		return err
	}
	changed, err := e.saveJSON(ctx, drillPolicyKey(d.ID), p)
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
	return p, e.loadJSON(ctx, drillPolicyKey(e.policyOwner(ctx, dbID)), &p)
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
	if ds, err := e.DrillServer(ctx); err != nil || (!ds.Set && (ds.Local == "" || ds.LocalProblem != "")) {
		return 0 // nowhere to drill: not a failure of each database
	}
	ran := 0
	for _, d := range dbs {
		if ctx.Err() != nil {
			break
		}
		if d.AllDatabases {
			continue // a server entry's drills are its databases'
		}
		due, err := e.drillDue(ctx, d.ID, now)
		if err != nil || !due {
			continue
		}
		bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Status: store.StatusSucceeded, Limit: 1, Manifests: true})
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

// DrillSummary is a drill's result in a sentence, e.g. "Restore drill
// passed: 12 tables, row counts match, restored in 4.2 s (local throwaway
// PostgreSQL 15)"; "" for a verification.
func DrillSummary(r *restore.Result) string {
	if r == nil || r.Kind != store.RunDrill {
		return ""
	}
	if !r.OK {
		s := "Restore drill failed"
		if r.Problem != nil {
			s += ": " + r.Problem.Detail
		}
		return s
	}
	s := "Restore drill passed: " + plural(r.Tables, "table")
	switch {
	case r.RowsCompared == 0:
		s += ", no row counts recorded to compare"
	case r.RowsCompared == r.Tables:
		s += ", row counts match"
	default:
		s += fmt.Sprintf(", row counts of %d match", r.RowsCompared)
	}
	if r.RestoreTime > 0 {
		s += ", restored in " + restoreTime(r.RestoreTime)
	}
	if r.Server != "" {
		s += " (" + r.Server + ")"
	}
	return s
}

// restoreTime is d to a tenth of a second below a minute ("4.2 s").
func restoreTime(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return human.Duration(d)
}
