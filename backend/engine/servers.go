package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// A server entry (store.DatabaseConfig.AllDatabases) backs up every database
// of its server. Each database found is a child entry named
// "SERVER/DATABASE", created by the run that first finds it; its
// connection, storages, schedule, retention, health checks and drill policy
// are the server entry's. A child is a database entry like any other
// otherwise: its own backups (objects under its own id, each restorable
// alone), history, status, verify and restore.

// ChildName is PgSafe's name for database dbname of server entry server.
func ChildName(server, dbname string) string { return server + "/" + dbname }

// serverPlan is what one run of a server entry does with the databases it
// found: back up Include (each with its existing child, or a new one),
// mark Gone the children whose database is no longer there (or is now
// excluded), and bring back Returned ones.
type serverPlan struct {
	Include  []string         // database names to back up, in order
	New      []string         // of Include: no child yet
	Gone     []store.Database // children newly missing
	Returned []store.Database // children marked gone whose database is back
}

// planServer is the pure policy of a run: listed are the server's
// databases (templates already left out), exclude the entry's exclusions,
// children its existing children.
func planServer(listed, exclude []string, children []store.Database) serverPlan {
	var p serverPlan
	byDB := map[string]store.Database{}
	for _, c := range children {
		byDB[c.DBName] = c
	}
	present := map[string]bool{}
	for _, name := range listed {
		if slices.Contains(exclude, name) {
			continue
		}
		present[name] = true
		p.Include = append(p.Include, name)
		c, ok := byDB[name]
		switch {
		case !ok:
			p.New = append(p.New, name)
		case !c.Gone.IsZero():
			p.Returned = append(p.Returned, c)
		}
	}
	for _, c := range children {
		if !present[c.DBName] && c.Gone.IsZero() {
			p.Gone = append(p.Gone, c)
		}
	}
	return p
}

// serverParallel is how many of a server entry's databases are dumped at
// once.
func serverParallel(c store.DatabaseConfig) int { return min(max(c.Parallel, 1), store.MaxParallel) }

// backupServer is one run of a server entry: it lists the server's
// databases, includes new ones (and says so), marks those that vanished
// (their backups are kept), audits the role in each database, backs each
// up (serverParallel at a time) and records one run: a history record of
// the server entry whose manifest (backup.RunManifest) lists every
// database's backup, also written encrypted to every storage. The run
// succeeds when every database was backed up, is partial when some were
// (its Error says which were not, and why), and fails when none were.
func (e *Engine) backupServer(ctx context.Context, d store.Database, c store.DatabaseConfig, origin string, progress func(backup.Progress)) (_ *store.Backup, err error) {
	if len(c.StorageIDs) == 0 {
		return nil, fmt.Errorf("server entry %q has no storage to back up to: add a storage and choose it for this server", c.Name)
	}
	ctx, bj, err := e.startBackupJob(asServerRun(ctx), d, c.Name, origin)
	if err != nil {
		return nil, err
	}
	defer e.finish(bj.run)
	var b *store.Backup
	defer func() { e.backupJobFinished(ctx, bj.ev, b, err) }()
	id, rec := bj.id, bj.rec
	fields := map[string]string{"backup_id": rec.ID, "origin": origin, "kind": "server"}
	if err := e.record(ctx, Event{Action: "backup.started", Target: c.Name, Fields: fields}); err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	// The run's manifest goes to the storages that open; each database's
	// backup says which storage it could not reach (partial).
	targets, closeAll, unopened := e.openTargets(ctx, c.StorageIDs)
	defer closeAll()
	if len(targets) == 0 {
		return nil, e.failBackup(ctx, &rec, c.Name, unopenedError(unopened))
	}

	listed, globals, err := e.listServer(ctx, c)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	children, err := e.store.ServerDatabases(ctx, d.ID)
	if err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	plan := planServer(listed, c.Exclude, children)
	m := &backup.RunManifest{Kind: backup.RunKind, Version: backup.RunVersion, RunID: id.String(),
		DatabaseID: strconv.FormatInt(d.ID, 10), Label: c.Name, Started: rec.StartedAt}
	if err := e.applyPlan(ctx, d, c, plan, m); err != nil {
		return nil, e.failBackup(ctx, &rec, c.Name, err)
	}
	if len(plan.Include) == 0 {
		return nil, e.failBackup(ctx, &rec, c.Name, fmt.Errorf("the server has no database to back up (%d found, %d excluded)",
			len(listed), len(listed)-len(plan.Include)))
	}

	// The databases' backups, serverParallel at a time. Each is a backup
	// of its child entry, with its own history record and events; the
	// face that started the run knows the run's job only.
	childCtx := withinRun(context.WithValue(ctx, jobStartedKey{}, (func(string))(nil)))
	prev := map[string]store.Status{} // each database's previous outcome, for its notification
	for _, rd := range m.Databases {
		if cid, err := strconv.ParseInt(rd.EntryID, 10, 64); err == nil && !rd.New {
			prev[rd.Entry] = e.lastOutcome(ctx, cid)
		}
	}
	sem := make(chan struct{}, serverParallel(c))
	var wg sync.WaitGroup
	for i := range m.Databases {
		wg.Add(1)
		go func(rd *backup.RunDatabase) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				rd.Status, rd.Error = string(store.StatusCancelled), context.Cause(ctx).Error()
				return
			}
			e.backupChild(childCtx, rd, origin, progress, globals)
		}(&m.Databases[i])
	}
	wg.Wait()
	m.Finished = time.Now().UTC()

	var failedRun []backup.TargetError
	if globals.Missing != "" {
		m.GlobalsMissing = globals.Missing
	} else {
		m.Globals, failedRun = backup.WriteRunGlobals(ctx, e.key, targets, "", m.DatabaseID, id, globals)
	}
	runFailed := backup.WriteRun(ctx, e.key, targets, "", id, m)
	failedRun = append(failedRun, runFailed...)
	e.recordRunCopies(ctx, rec, id, m, targets, runFailed)
	rec.FinishedAt = m.Finished
	for _, rd := range m.Databases {
		if rd.Status == string(store.StatusSucceeded) {
			rec.Status = store.StatusSucceeded
		}
		rec.RawSize, rec.StoredSize = rec.RawSize+rd.RawSize, rec.StoredSize+rd.StoredSize // the run's: its databases' together
	}
	if backup.RunWrittenTo(failedRun, targets) == 0 {
		rec.Status = store.StatusFailed
	}
	rec.Error = runMessage(m, failedRun)
	if rec.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	if rec.Status != store.StatusSucceeded {
		cause := errors.New(rec.Error)
		if ctx.Err() != nil {
			cause = context.Cause(ctx)
		}
		err = e.failBackup(ctx, &rec, c.Name, cause)
		return nil, err
	}
	if err := e.store.UpdateBackup(ctx, rec); err != nil {
		return nil, err
	}
	fields["databases"] = strconv.Itoa(len(m.Databases))
	fields["failed"] = strconv.Itoa(len(m.Failed()))
	ev := Event{Action: "backup.finished", Target: c.Name, Fields: fields}
	if rec.Error != "" {
		ev.Outcome, ev.Message = "partial", rec.Error
	}
	if err := e.record(ctx, ev); err != nil {
		return nil, err
	}
	stored, err := e.store.Backup(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	b = &stored
	if err := e.pruneRuns(ctx, d.ID, c.Name, rec.ID, targets); err != nil {
		e.log.Error("retention of a server's runs", "server", c.Name, "err", err)
	}
	for _, ev := range runNotifications(c.Name, stored, m, prev) {
		e.notify(ev)
	}
	var biggest int64
	for _, rd := range m.Databases {
		biggest = max(biggest, rd.StoredSize)
	}
	e.checkSpace(ctx, c.Name, targets, biggest)
	return b, nil
}

// listServer lists the databases of server entry c's server and captures
// its globals (roles and tablespaces, never passwords) once for the run:
// when they cannot be read, Missing says why and the run goes on.
func (e *Engine) listServer(ctx context.Context, c store.DatabaseConfig) ([]string, *backup.Globals, error) {
	cfg, closeFn, err := connect(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	info, err := pg.Test(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	conn, err := pg.Connect(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	names, err := pg.Databases(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	return names, backup.DumpGlobals(ctx, e.clients(ctx), cfg.ToolConn(), info.Major), nil
}

// applyPlan creates the children of new databases, marks vanished ones
// gone and returned ones back (each audited), and fills m's databases and
// gone list.
func (e *Engine) applyPlan(ctx context.Context, d store.Database, c store.DatabaseConfig, plan serverPlan, m *backup.RunManifest) error {
	children, err := e.store.ServerDatabases(ctx, d.ID)
	if err != nil {
		return err
	}
	for _, g := range plan.Gone {
		g.Gone = time.Now().UTC()
		if _, err := e.store.UpdateDatabase(ctx, g.ID, g.DatabaseConfig); err != nil {
			return fmt.Errorf("mark %s as no longer on the server: %w", g.Name, err)
		}
		m.Gone = append(m.Gone, g.DBName)
		why := "no longer on the server"
		if slices.Contains(c.Exclude, g.DBName) {
			why = "now excluded"
		}
		e.record(ctx, Event{Action: "database.gone", Target: g.Name, Fields: map[string]string{"id": strconv.FormatInt(g.ID, 10), "server": c.Name},
			Message: fmt.Sprintf("database %s is %s: its backups are kept", g.DBName, why)})
	}
	for _, r := range plan.Returned {
		r.Gone = time.Time{}
		if _, err := e.store.UpdateDatabase(ctx, r.ID, r.DatabaseConfig); err != nil {
			return fmt.Errorf("bring %s back: %w", r.Name, err)
		}
		e.record(ctx, Event{Action: "database.returned", Target: r.Name, Fields: map[string]string{"id": strconv.FormatInt(r.ID, 10), "server": c.Name},
			Message: fmt.Sprintf("database %s is on the server again: it is backed up with it", r.DBName)})
	}
	byDB := map[string]store.Database{}
	for _, ch := range children {
		byDB[ch.DBName] = ch
	}
	for _, name := range plan.Include {
		rd := backup.RunDatabase{Database: name, Entry: ChildName(c.Name, name)}
		if ch, ok := byDB[name]; ok {
			rd.Entry, rd.EntryID = ch.Name, strconv.FormatInt(ch.ID, 10)
		} else {
			rd.New = true
			cid, entry, taken, err := e.createChild(ctx, d.ID, c.Name, name)
			if err != nil {
				// This database fails, the others go on.
				rd.Status, rd.Error = string(store.StatusFailed), fmt.Sprintf("cannot add database %s as %q: %v", name, rd.Entry, err)
				m.Databases = append(m.Databases, rd)
				continue
			}
			rd.Entry, rd.EntryID = entry, strconv.FormatInt(cid, 10)
			msg := fmt.Sprintf("new database %s included", name)
			if taken != "" {
				msg += fmt.Sprintf(" as %s (entry names ignore case, and %s is taken)", entry, taken)
			}
			e.record(ctx, Event{Action: "database.created", Target: rd.Entry,
				Fields:  map[string]string{"id": rd.EntryID, "server": c.Name},
				Message: msg})
		}
		m.Databases = append(m.Databases, rd)
	}
	return nil
}

// createChild creates the entry of database dbname of server entry
// serverID (named server): ChildName, or, when another entry holds that
// name ignoring case (databases Shop and shop on one server, or an entry of
// the user's), the first free "SERVER/DATABASE (2)", "(3)"…; taken is the
// name that was taken ("" when none).
func (e *Engine) createChild(ctx context.Context, serverID int64, server, dbname string) (id int64, entry, taken string, err error) {
	base := ChildName(server, dbname)
	for n := 1; n <= 20; n++ {
		entry = base
		if n > 1 {
			entry = fmt.Sprintf("%s (%d)", base, n)
		}
		id, err = e.store.CreateDatabase(ctx, store.DatabaseConfig{Name: entry, DBName: dbname, ServerEntry: serverID})
		var conflict *store.ConflictError
		if !errors.As(err, &conflict) {
			return id, entry, taken, err
		}
		if taken == "" {
			if other, lerr := e.store.DatabaseByName(ctx, base); lerr == nil {
				taken = other.Name
			} else {
				taken = base
			}
		}
	}
	return 0, base, taken, err
}

// backupChild audits the role in one database of a run, then backs it up,
// and records the outcome in rd. A database the role cannot read, or can
// change unless the server entry accepted that, fails alone, with a failed
// record in its history.
func (e *Engine) backupChild(ctx context.Context, rd *backup.RunDatabase, origin string, progress func(backup.Progress), globals *backup.Globals) {
	if rd.Status != "" { // failed before (its entry could not be made)
		return
	}
	cid, _ := strconv.ParseInt(rd.EntryID, 10, 64)
	fail := func(err error) {
		rd.Status, rd.Error = string(store.StatusFailed), err.Error()
		if isCancel(err) {
			rd.Status = string(store.StatusCancelled)
		}
	}
	cd, err := e.store.Database(ctx, cid)
	if err != nil {
		fail(err)
		return
	}
	cc, err := e.store.DatabaseCredentials(ctx, cid)
	if err != nil {
		fail(err)
		return
	}
	if err := e.auditChild(ctx, cd, cc); err != nil {
		fail(e.recordChildFailure(ctx, cd, origin, err))
		return
	}
	started := time.Now().UTC().Truncate(time.Millisecond)
	b, err := e.backupOne(ctx, cd, cc, origin, progress, globals)
	if err != nil {
		if !e.recordedSince(ctx, cd.ID, started) { // it failed before its record (another backup of it runs)
			err = e.recordChildFailure(ctx, cd, origin, err)
		}
		fail(err)
		return
	}
	rd.Status, rd.BackupID, rd.Error = string(b.Status), b.ID, b.Error
	rd.RawSize, rd.StoredSize = b.RawSize, b.StoredSize
	if m, merr := manifest(*b); merr == nil {
		rd.Object = m.Object
	}
}

// auditChild checks the role in one database of a server: read-only (or
// write access the server entry accepted) and able to read everything
// pg_dump reads. The verdict is kept in the child's record.
func (e *Engine) auditChild(ctx context.Context, d store.Database, c store.DatabaseConfig) error {
	actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	chk, err := check(actx, c)
	if err != nil {
		return fmt.Errorf("check the role in database %s: %w", c.DBName, err)
	}
	if v := string(chk.Report.Verdict); v != d.Verdict {
		d.Verdict, d.CheckedAt = v, time.Now().UTC()
		if _, err := e.store.UpdateDatabase(ctx, d.ID, d.DatabaseConfig); err != nil {
			e.log.Warn("record a database's privilege check", "database", d.Name, "err", err)
		}
	}
	if chk.Report.Verdict == pg.VerdictWriteAccess && !c.WriteAccepted {
		return &WriteAccessError{Report: chk.Report}
	}
	if n := len(chk.Report.MissingRead); n > 0 {
		var what []string
		for _, mr := range chk.Report.MissingRead {
			what = append(what, mr.Object+" ("+mr.Privilege+")")
		}
		if len(what) > 5 {
			what = append(what[:5], fmt.Sprintf("%d more", n-5))
		}
		return fmt.Errorf("the role %s cannot read everything in database %s: %s; grant it read access (the database's privilege check shows the SQL)",
			chk.Report.Role, c.DBName, strings.Join(what, ", "))
	}
	return nil
}

// recordedSince says whether database id has a history record started at
// or after t.
func (e *Engine) recordedSince(ctx context.Context, id int64, t time.Time) bool {
	bs, err := e.store.Backups(context.WithoutCancel(ctx), store.BackupFilter{DatabaseID: id, Limit: 1})
	return err == nil && len(bs) == 1 && !bs[0].StartedAt.Before(t)
}

// recordChildFailure records a failed backup in the history of a database
// whose backup could not start, and returns err.
func (e *Engine) recordChildFailure(ctx context.Context, d store.Database, origin string, err error) error {
	id, ierr := format.NewBackupID()
	if ierr != nil {
		return err
	}
	rec := store.Backup{ID: id.String(), DatabaseID: d.ID, Status: store.StatusRunning, Origin: origin,
		StartedAt: time.Now().UTC(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: d.Name}}
	if cerr := e.store.CreateBackup(context.WithoutCancel(ctx), rec); cerr != nil {
		e.log.Error("record a database's failed backup", "database", d.Name, "err", cerr)
		return err
	}
	return e.failBackup(ctx, &rec, d.Name, err)
}

// runMessage says what a run lacks: the databases not backed up and why,
// the storages without its run manifest; "" when nothing.
func runMessage(m *backup.RunManifest, failedRun []backup.TargetError) string {
	var parts []string
	if f := m.Failed(); len(f) > 0 {
		msg := fmt.Sprintf("%d of %d databases backed up", len(m.Databases)-len(f), len(m.Databases))
		for _, rd := range f {
			msg += "; " + rd.Database + ": " + firstLine(rd.Error)
		}
		parts = append(parts, msg)
	}
	for _, rd := range m.Databases {
		if rd.Status == string(store.StatusSucceeded) && rd.Error != "" {
			parts = append(parts, rd.Database+": "+firstLine(rd.Error))
		}
	}
	for _, f := range failedRun {
		parts = append(parts, f.Err.Error())
	}
	return strings.Join(parts, "; ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// policyOwner is the entry whose schedule, retention, health checks and
// drill policy apply to database id: its server entry for a server's
// database, itself otherwise.
func (e *Engine) policyOwner(ctx context.Context, id int64) int64 {
	d, err := e.store.Database(ctx, id)
	if err != nil || d.ServerEntry == 0 {
		return id
	}
	return d.ServerEntry
}

// RunOf is the run manifest of a server entry's run record (ok false for a
// single database's backup).
func RunOf(b store.Backup) (*backup.RunManifest, bool) {
	if len(b.Manifest) == 0 || !backup.IsRunManifest(b.Manifest) {
		return nil, false
	}
	m, err := backup.ParseRunManifest(b.Manifest)
	return m, err == nil
}

// RunView is a server entry's run as a face shows it.
type RunView struct {
	Databases []RunLine `json:"databases"`
	Gone      []string  `json:"gone,omitempty"` // databases no longer on the server
	BackedUp  int       `json:"backedUp"`       // of len(Databases)
	// RolesMissing says why the server's roles were not saved ("": they were).
	RolesMissing string `json:"rolesMissing,omitempty"`
}

// RunLine is one database of a run.
type RunLine struct {
	backup.RunDatabase
	OK bool `json:"ok"`
}

// DescribeRun is b's run (ok false for a single database's backup).
func DescribeRun(b store.Backup) (RunView, bool) {
	m, ok := RunOf(b)
	if !ok {
		return RunView{}, false
	}
	v := RunView{Gone: m.Gone, RolesMissing: m.GlobalsMissing, Databases: []RunLine{}}
	for _, d := range m.Databases {
		l := RunLine{RunDatabase: d, OK: d.Status == string(store.StatusSucceeded)}
		if l.OK {
			v.BackedUp++
		}
		v.Databases = append(v.Databases, l)
	}
	return v, true
}

// policyEntry is the named entry whose schedule, retention, health checks
// or drill policy is being set: a server's database has none of its own.
func (e *Engine) policyEntry(ctx context.Context, name string) (store.Database, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return d, notFound("db", name)
	} else if err != nil {
		return d, err
	}
	if d.ServerEntry != 0 {
		server, err := e.store.Database(ctx, d.ServerEntry)
		if err != nil {
			return d, err
		}
		return d, fmt.Errorf("%s is a database of the server entry %s: its schedule, retention, health checks and drills are %s's; set them there",
			d.Name, server.Name, server.Name)
	}
	return d, nil
}
