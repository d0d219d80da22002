package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/storage/local"
	"github.com/pgsafe/pgsafe/backend/store"
)

// FindBackup finds a finished backup by ID, or "latest" of database dbName.
func (e *Engine) FindBackup(ctx context.Context, ref, dbName string) (store.Backup, error) {
	if ref != "latest" {
		b, err := e.store.Backup(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return b, fmt.Errorf("%w: no backup %s in this machine's history (`pgsafe backups NAME` lists them)", ErrNotFound, ref)
		}
		return b, err
	}
	if dbName == "" {
		return store.Backup{}, errors.New("\"latest\" needs the database: --db NAME")
	}
	d, err := e.store.DatabaseByName(ctx, dbName)
	if errors.Is(err, store.ErrNotFound) {
		return store.Backup{}, notFound("db", dbName)
	} else if err != nil {
		return store.Backup{}, err
	}
	bs, err := e.store.Backups(ctx, store.BackupFilter{DatabaseID: d.ID, Status: store.StatusSucceeded, Limit: 1, Manifests: true})
	if err != nil {
		return store.Backup{}, err
	}
	if len(bs) == 0 {
		return store.Backup{}, fmt.Errorf("%w: database %q has no finished backup yet", ErrNotFound, dbName)
	}
	return bs[0], nil
}

// source opens where b is read from: the file it was imported from (see
// ImportFile), else a storage that holds a copy of it. It sets m.Object to
// the name of the backup there. The caller closes it.
func (e *Engine) source(ctx context.Context, b store.Backup, m *backup.Manifest) (restore.Source, int64, func(), error) {
	if b.File != "" {
		s, err := local.New(filepath.Dir(b.File))
		if err != nil {
			return nil, 0, nil, fmt.Errorf("backup %s cannot be read from %s: %w", b.ID, b.File, err)
		}
		m.Object = filepath.Base(b.File)
		// A file copied out of a storage may have left its roles file
		// behind. The backup itself is whole: it verifies and restores
		// onto a server that has the roles (or without owners), and what
		// needs the roles says they were not found beside it.
		if m.Globals != nil {
			roles := backup.GlobalsOf(m.Object)
			if _, err := os.Stat(filepath.Join(filepath.Dir(b.File), roles)); errors.Is(err, fs.ErrNotExist) {
				m.Globals = nil
				m.GlobalsMissing = fmt.Sprintf("the roles file %s is not beside %s", roles, filepath.Base(b.File))
			}
		}
		return s, 0, func() {}, nil
	}
	var lastErr error
	for _, c := range b.Copies {
		if c.Status != store.CopyWritten {
			continue
		}
		cfg, err := e.store.StorageCredentials(ctx, c.StorageID)
		if err != nil {
			lastErr = err
			continue
		}
		s, closeS, err := e.openStorage(ctx, cfg)
		if err != nil {
			lastErr = fmt.Errorf("storage %s: %w", cfg.Name, err)
			continue
		}
		if c.Object != "" {
			m.Object = c.Object
		}
		return s, c.StorageID, closeS, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no storage holds a copy of it")
	}
	return nil, 0, nil, fmt.Errorf("backup %s cannot be read: %w", b.ID, lastErr)
}

func (e *Engine) pgRestore(ctx context.Context, serverMajor int) (string, error) {
	in, err := pgtools.Pick(e.clients(ctx), serverMajor)
	if err != nil {
		return "", err
	}
	if in.PgRestore == "" {
		return "", fmt.Errorf("pg_restore is missing beside %s: %s", in.PgDump, pgtools.InstallAdviceFor(serverMajor))
	}
	return in.PgRestore, nil
}

// VerifyBackup checks a stored backup end to end (restore.Verify) and, with a
// drill server URL, also restores it into a scratch database there
// (restore.Drill). The result is recorded in the history and the audit log.
func (e *Engine) VerifyBackup(ctx context.Context, b store.Backup, drillURL string) (*restore.Result, error) {
	return e.checkBackup(ctx, b, drillURL != "", drillURL)
}

// checkBackup verifies b, or drills it: on the server drillURL names, or
// with drillURL empty in a throwaway local cluster (see drill).
func (e *Engine) checkBackup(ctx context.Context, b store.Backup, drill bool, drillURL string) (*restore.Result, error) {
	m, err := e.manifestOf(ctx, b)
	if err != nil {
		return nil, err
	}
	src, storageID, closeSrc, err := e.source(ctx, b, m)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	pgRestore, err := e.pgRestore(ctx, m.ServerMajor)
	if err != nil {
		return nil, err
	}
	var local *localServer
	if drill && drillURL == "" {
		if local, err = e.localServer(ctx, m.ServerMajor); err != nil {
			return nil, err // no server programs: nothing ran, nothing recorded
		}
	}
	kind := store.RunVerify
	jev := JobEvent{Job: JobVerify, JobID: b.ID, Database: b.DatabaseName, Origin: OriginOf(ctx)}
	if drill {
		jev.Job = JobDrill
	}
	e.publish(JobEvent{Type: EventJobStarted, Job: jev.Job, JobID: jev.JobID, Database: jev.Database, Origin: jev.Origin})
	rec := store.RestoreRecord{Kind: kind, BackupID: b.ID, DatabaseID: b.DatabaseID, Status: store.StatusRunning, StartedAt: time.Now().UTC(),
		RestoreDetails: store.RestoreDetails{StorageID: storageID}}
	var res *restore.Result
	if !drill {
		res, err = restore.Verify(ctx, src, m, keys.Keys{e.key}, pgRestore)
	} else {
		kind = store.RunDrill
		rec.Kind = kind
		res, rec.Target, err = e.drill(ctx, src, m, pgRestore, drillURL, local)
	}
	err = e.finishRun(ctx, rec, b, res, err)
	if err == nil && res != nil && !res.OK {
		jev.Outcome = "failed"
		if res.Problem != nil {
			jev.Error = res.Problem.Detail
		}
	}
	e.jobFinished(ctx, jev, err)
	return res, err
}

// finishRun records a verify, drill or restore run.
func (e *Engine) finishRun(ctx context.Context, rec store.RestoreRecord, b store.Backup, res *restore.Result, runErr error) error {
	rec.FinishedAt = time.Now().UTC()
	outcome := "ok"
	switch {
	case runErr != nil:
		rec.Status, rec.Error, outcome = store.StatusFailed, runErr.Error(), "failed"
	case res != nil && !res.OK:
		rec.Status, outcome = store.StatusFailed, "failed"
		rec.Problems = append(rec.Problems, res.Problem.Detail)
		rec.Warnings = res.Warnings
	default:
		rec.Status = store.StatusSucceeded
		if res != nil {
			rec.Warnings = res.Warnings
		}
	}
	if res != nil {
		rec.Data, _ = json.Marshal(res)
	}
	if _, err := e.store.CreateRestore(context.WithoutCancel(ctx), rec); err != nil {
		return errors.Join(runErr, err)
	}
	fields := map[string]string{"backup_id": b.ID}
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	} else if res != nil && res.Problem != nil {
		msg = res.Problem.Detail
	}
	if outcome == "failed" && rec.Kind != store.RunRestore && !errors.Is(runErr, context.Canceled) {
		kind := notify.EventVerifyFailed
		if rec.Kind == store.RunDrill {
			kind = notify.EventDrillFailed
		}
		e.notify(notify.Event{Kind: kind, Database: b.DatabaseName, Body: msg, Fields: map[string]string{"backup": b.ID}})
	}
	if err := e.record(context.WithoutCancel(ctx), Event{Action: "backup." + rec.Kind, Outcome: outcome, Target: b.DatabaseName, Fields: fields, Message: msg}); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// RestoreOptions are a restore's choices.
type RestoreOptions struct {
	Replace           bool // replace an existing database (otherwise create a new one)
	Jobs              int
	NoOwner           bool
	NoPrivileges      bool
	NoTablespaces     bool // every object in the target's default tablespace
	ExcludeExtensions []string
	Progress          func(restore.Progress)
	// Owners and grants are kept by default; when the target lacks roles
	// the backup names, the restore fails before writing anything with a
	// *restore.RolesProblem, and these are the ways on (restore.Options):
	// CreateRoles creates them from the roles saved with the backup (NOLOGIN
	// unless CreateRolesLogin), RoleMap gives their objects to others.
	CreateRoles      bool
	CreateRolesLogin bool
	RoleMap          map[string]string
}

// RestoreTarget is where a restore goes: URL names any server and the
// database to restore into, with write credentials; or SameServer restores
// to the backed-up database's own server (its stored address, TLS settings
// and SSH tunnel) as User with Password, into Database. The credentials are
// used for this restore only: never stored, never logged.
type RestoreTarget struct {
	URL        string
	SameServer bool
	User       string
	Password   string
	Database   string
}

// resolve turns t into connection settings (through the tunnel for
// SameServer), and the address the user knows it by (the server's own, not
// the tunnel's); call closeFn when done.
func (e *Engine) resolveTarget(ctx context.Context, b store.Backup, t RestoreTarget) (cfg, known pg.Config, closeFn func(), err error) {
	if !t.SameServer {
		cfg, err = pg.ParseConnString(t.URL)
		return cfg, cfg, func() {}, err
	}
	if t.User == "" || t.Database == "" {
		return cfg, cfg, nil, errors.New("restore to the same server needs a user with write access and the database to restore into")
	}
	if b.DatabaseID == 0 {
		return cfg, cfg, nil, fmt.Errorf("the database backup %s came from is no longer in PgSafe: restore to a server named by its URL", b.ID)
	}
	c, err := e.store.DatabaseCredentials(ctx, b.DatabaseID)
	if err != nil {
		return cfg, cfg, nil, err
	}
	// The server its credentials command names now; the user and password
	// are the ones typed for the restore.
	c.PasswordCommand = store.Secret{}
	if c, err = resolve(ctx, c); err != nil {
		return cfg, cfg, nil, err
	}
	c.User, c.Password, c.DBName = t.User, store.NewSecret(t.Password), t.Database
	cfg, closeFn, err = connect(ctx, c)
	return cfg, pgConfig(c), closeFn, err
}

// connectionURL is how to reach c's database, never with its password:
// postgres://user@host:port/db, with ?sslmode= when c asks for more than
// libpq's default (prefer) and ?host= for a Unix socket directory.
func connectionURL(c pg.Config) string {
	port := c.Port
	if port == 0 {
		port = 5432
	}
	u := url.URL{Scheme: "postgres", User: url.User(c.User), Path: "/" + c.Database}
	q := url.Values{}
	if strings.HasPrefix(c.Host, "/") {
		q.Set("host", c.Host)
		q.Set("port", strconv.Itoa(port))
	} else {
		u.Host = net.JoinHostPort(c.Host, strconv.Itoa(port))
	}
	switch c.SSLMode {
	case pg.SSLRequire, pg.SSLVerifyCA, pg.SSLVerifyFull:
		q.Set("sslmode", string(c.SSLMode))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// RestoreBackup restores b into the target database (see RestoreTarget).
func (e *Engine) RestoreBackup(ctx context.Context, b store.Backup, to RestoreTarget, opts RestoreOptions) (*restore.RestoreResult, error) {
	m, err := e.manifestOf(ctx, b)
	if err != nil {
		return nil, err
	}
	target, known, closeTarget, err := e.resolveTarget(ctx, b, to)
	if err != nil {
		return nil, err
	}
	defer closeTarget()
	src, storageID, closeSrc, err := e.source(ctx, b, m)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	pgRestore, err := e.pgRestore(ctx, m.ServerMajor)
	if err != nil {
		return nil, err
	}
	mode := restore.ModeNew
	if opts.Replace {
		mode = restore.ModeReplace
	}
	tc := target.ToolConn()
	tc.AllowWrite = true
	where := target.String()
	if to.SameServer {
		where = fmt.Sprintf("%s@(the server of %s)/%s", target.User, b.DatabaseName, target.Database)
	}
	jev := JobEvent{Job: JobRestore, JobID: b.ID, Database: b.DatabaseName, Origin: store.OriginManual}
	e.publish(JobEvent{Type: EventJobStarted, Job: JobRestore, JobID: b.ID, Database: b.DatabaseName, Origin: jev.Origin})
	progress := func(p restore.Progress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
		e.publish(JobEvent{Type: EventJobProgress, Job: JobRestore, JobID: b.ID, Database: b.DatabaseName, Origin: jev.Origin, Restore: &p})
	}
	rec := store.RestoreRecord{Kind: store.RunRestore, BackupID: b.ID, DatabaseID: b.DatabaseID, Status: store.StatusRunning, StartedAt: time.Now().UTC(),
		RestoreDetails: store.RestoreDetails{StorageID: storageID, Target: where}}
	rr, err := restore.Restore(ctx, src, m, keys.Keys{e.key}, pgRestore, tc, restore.Options{Mode: mode, Jobs: opts.Jobs,
		NoOwner: opts.NoOwner, NoPrivileges: opts.NoPrivileges, NoTablespaces: opts.NoTablespaces, ExcludeExtensions: opts.ExcludeExtensions,
		CreateRoles: opts.CreateRoles, CreateRolesLogin: opts.CreateRolesLogin, RoleMap: opts.RoleMap,
		// Roles are the server's, not the database's: the log says they were
		// created on their own, whatever becomes of the restore.
		OnRolesCreated: func(roles []string) {
			if rerr := e.record(context.WithoutCancel(ctx), Event{Action: "roles.created", Target: where,
				Fields: map[string]string{"backup_id": b.ID, "roles": strings.Join(roles, ", "), "login": strconv.FormatBool(opts.CreateRolesLogin)}}); rerr != nil {
				e.log.Error("record the roles a restore created", "err", rerr)
			}
		},
		TempDir: filepath.Join(e.home, "tmp"), Progress: progress})
	if rr != nil {
		rec.Warnings = rr.Warnings
		rr.Connection = connectionURL(known)
	}
	err = e.finishRun(ctx, rec, b, nil, err)
	e.jobFinished(ctx, jev, err)
	return rr, err
}

// Manifest returns a finished backup's manifest (read from the settings
// database when b was listed without it).
func (e *Engine) Manifest(ctx context.Context, b store.Backup) (*backup.Manifest, error) {
	return e.manifestOf(ctx, b)
}
