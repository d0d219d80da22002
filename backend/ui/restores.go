package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// RestoreService is the bad day: verify, drill and restore a backup, import
// a backup file, and the drill settings. One restore runs at a time; its
// progress arrives as "restore:progress" events and its end as one
// "restore:finished".
type RestoreService struct {
	core *Core

	mu     sync.Mutex
	cancel context.CancelFunc // of the running restore
}

// NewRestoreService returns the service bound as RestoreService.
func NewRestoreService(c *Core) *RestoreService { return &RestoreService{core: c} }

// CheckView is a verification or drill of one backup.
type CheckView struct {
	Kind            string    `json:"kind"` // "verify" or "drill"
	OK              bool      `json:"ok"`
	Problem         string    `json:"problem,omitempty"`
	ProblemCode     string    `json:"problemCode,omitempty"`
	Tables          int       `json:"tables"`
	RowDiffs        []string  `json:"rowDiffs,omitempty"`
	Warnings        []string  `json:"warnings,omitempty"`
	When            time.Time `json:"when"`
	DurationSeconds float64   `json:"durationSeconds"`
	// Drills: how many tables' row counts were compared, how long the
	// restore itself took, where it ran, and all that in a sentence.
	RowsCompared   int     `json:"rowsCompared,omitempty"`
	RestoreSeconds float64 `json:"restoreSeconds,omitempty"`
	Server         string  `json:"server,omitempty"`
	Summary        string  `json:"summary,omitempty"`
}

func checkView(r *restore.Result) CheckView {
	v := CheckView{Kind: r.Kind, OK: r.OK, Tables: r.Tables, Warnings: r.Warnings, When: r.Started.Add(r.Duration), DurationSeconds: r.Duration.Seconds(),
		RowsCompared: r.RowsCompared, RestoreSeconds: r.RestoreTime.Seconds(), Server: r.Server, Summary: engine.DrillSummary(r)}
	if r.Problem != nil {
		v.Problem, v.ProblemCode = r.Problem.Detail, string(r.Problem.Code)
	}
	for _, d := range r.RowDiffs {
		if d.Got < 0 {
			v.RowDiffs = append(v.RowDiffs, d.Table+": missing")
		} else {
			v.RowDiffs = append(v.RowDiffs, fmt.Sprintf("%s: %d rows, %d expected", d.Table, d.Got, d.Want))
		}
	}
	return v
}

func (s *RestoreService) backup(id string) (*engine.Engine, store.Backup, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, store.Backup{}, err
	}
	b, err := e.FindBackup(context.Background(), id, "")
	return e, b, err
}

// source is the backup req names: read from req.File when set.
func (s *RestoreService) source(req RestoreRequest) (*engine.Engine, store.Backup, error) {
	if strings.TrimSpace(req.File) == "" {
		return s.backup(req.BackupID)
	}
	e, err := s.core.engine()
	if err != nil {
		return nil, store.Backup{}, err
	}
	b, err := e.ImportFile(context.Background(), strings.TrimSpace(req.File))
	if err != nil {
		return nil, store.Backup{}, err
	}
	if req.BackupID != "" && b.ID != req.BackupID {
		return nil, store.Backup{}, fmt.Errorf("%s now holds backup %s, not %s: the file was replaced since it was read", req.File, b.ID, req.BackupID)
	}
	return e, b, nil
}

// Verify checks backup id end to end without a database (every chunk, size,
// SHA-256, the archive's table of contents against the manifest).
func (s *RestoreService) Verify(id string) (CheckView, error) {
	e, b, err := s.backup(id)
	if err != nil {
		return CheckView{}, err
	}
	res, err := e.VerifyBackup(context.Background(), b, "")
	if err != nil {
		return CheckView{}, err
	}
	return checkView(res), nil
}

// Drill restores backup id into a scratch database on the drill server (or,
// with none set, a throwaway local PostgreSQL), compares row counts with the
// manifest and drops the scratch database.
func (s *RestoreService) Drill(id string) (CheckView, error) {
	e, b, err := s.backup(id)
	if err != nil {
		return CheckView{}, err
	}
	res, err := e.DrillBackup(context.Background(), b)
	if err != nil {
		return CheckView{}, err
	}
	return checkView(res), nil
}

// RestoreRequest is what the restore dialog asks. Target "same" creates
// Database on the backed-up database's own server, "replace" restores over
// the existing Database there, "url" goes to the server and database URL
// names. User and Password (write access) are used for this restore only.
type RestoreRequest struct {
	BackupID string `json:"backupId"`
	// File, when set, is the .pgsafe file the backup is read from (Restore
	// from a file): that file is what is checked and restored, not a
	// storage's copy of the same backup.
	File              string   `json:"file,omitempty"`
	Target            string   `json:"target"` // "same", "replace" or "url"
	User              string   `json:"user"`
	Password          string   `json:"password"`
	Database          string   `json:"database"`
	URL               string   `json:"url"`
	Confirm           string   `json:"confirm"` // "replace" needs the database's name typed again
	Jobs              int      `json:"jobs"`
	NoOwner           bool     `json:"noOwner"`
	NoPrivileges      bool     `json:"noPrivileges"`
	NoTablespaces     bool     `json:"noTablespaces"` // every object in the target's default tablespace
	ExcludeExtensions []string `json:"excludeExtensions"`
	// CreateRoles creates the roles the target lacks from the ones saved
	// with the backup (without passwords, unable to log in); RoleMap gives
	// a role's objects and grants to another (old name → new name).
	CreateRoles bool              `json:"createRoles"`
	RoleMap     map[string]string `json:"roleMap"`
}

// RestoreProgress is the "restore:progress" event.
type RestoreProgress struct {
	BackupID  string `json:"backupId"`
	Phase     string `json:"phase"` // checking, verifying, decrypting, restoring, counting, done (restore.Progress)
	ReadBytes int64  `json:"readBytes"`
	Total     int64  `json:"total"`
	Item      string `json:"item,omitempty"`
}

// RestoreFinished is the "restore:finished" event.
type RestoreFinished struct {
	BackupID  string `json:"backupId"`
	OK        bool   `json:"ok"`
	Cancelled bool   `json:"cancelled"`
	Database  string `json:"database,omitempty"`
	// Problem says why the restore failed in the user's words; Error is the
	// technical detail.
	Problem string `json:"problem,omitempty"`
	Error   string `json:"error,omitempty"`
	// Warnings are pg_restore's raw problem lines; Notes say what they mean.
	Warnings      []string       `json:"warnings,omitempty"`
	Notes         []restore.Note `json:"notes,omitempty"`
	IgnoredErrors int            `json:"ignoredErrors"`
	ViaTempFile   bool           `json:"viaTempFile"`
	// Rows compares the restored rows with the backup's recorded counts.
	Rows *restore.RowCheck `json:"rows,omitempty"`
	// Connection reaches the restored database (never with a password).
	Connection      string  `json:"connection,omitempty"`
	DurationSeconds float64 `json:"durationSeconds"`
	// Roles, when the restore did not start for the roles the backup
	// names, says which are missing (the dialog offers the choices).
	Roles *restore.RolesProblem `json:"roles,omitempty"`
	// RolesCreated are the roles the restore created on the target.
	RolesCreated []string `json:"rolesCreated,omitempty"`
}

var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// plainDatabaseName refuses a new database's name that would need quoting
// in SQL (and so in every tool the user reaches it with) or that PostgreSQL
// would cut.
func plainDatabaseName(name string) error {
	switch {
	case len(name) > 63:
		return fmt.Errorf("%q is %d bytes long; PostgreSQL keeps 63 at most: choose a shorter name", name, len(name))
	case !plainName.MatchString(name):
		return fmt.Errorf("%q would need quoting in SQL: use lowercase letters, digits and _ only, starting with a letter (like shop_restored_20261206_1402)", name)
	}
	return nil
}

func (r RestoreRequest) target() (engine.RestoreTarget, bool, error) {
	switch r.Target {
	case "same", "replace":
		if strings.TrimSpace(r.User) == "" || strings.TrimSpace(r.Database) == "" {
			return engine.RestoreTarget{}, false, errors.New("give a user with write access and the database to restore into")
		}
		if r.Target == "same" {
			if err := plainDatabaseName(r.Database); err != nil {
				return engine.RestoreTarget{}, false, err
			}
		}
		if r.Target == "replace" && r.Confirm != r.Database {
			return engine.RestoreTarget{}, false, fmt.Errorf("type the name of the database to replace (%s) to confirm", r.Database)
		}
		return engine.RestoreTarget{SameServer: true, User: r.User, Password: r.Password, Database: r.Database}, r.Target == "replace", nil
	case "url":
		if strings.TrimSpace(r.URL) == "" {
			return engine.RestoreTarget{}, false, errors.New("give the target as postgres://user:password@host:5432/newdb")
		}
		return engine.RestoreTarget{URL: r.URL}, false, nil
	}
	return engine.RestoreTarget{}, false, fmt.Errorf("%q is not a restore target", r.Target)
}

// Start begins a restore in the background. Its checks (target server
// version, database exists or not, room for a parallel restore) run first;
// a failure ends in "restore:finished" with the reason.
func (s *RestoreService) Start(req RestoreRequest) error {
	e, b, err := s.source(req)
	if err != nil {
		return err
	}
	to, replace, err := req.target()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.cancel != nil {
		s.mu.Unlock()
		return errors.New("a restore is already running: wait for it or cancel it")
	}
	ctx, done := s.core.work()
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.mu.Unlock()

	go func() {
		defer func() {
			s.mu.Lock()
			s.cancel = nil
			s.mu.Unlock()
			cancel()
			done()
		}()
		var last time.Time
		var lastPhase string
		started := time.Now()
		// Owners and grants are kept unless the user chose otherwise; roles
		// the target lacks stop the restore before it writes (done.Roles).
		rr, err := e.RestoreBackup(ctx, b, to, engine.RestoreOptions{Replace: replace, Jobs: req.Jobs, NoOwner: req.NoOwner,
			NoPrivileges: req.NoPrivileges, NoTablespaces: req.NoTablespaces, ExcludeExtensions: req.ExcludeExtensions, CreateRoles: req.CreateRoles, RoleMap: req.RoleMap,
			Progress: func(p restore.Progress) {
				if p.Phase == lastPhase && time.Since(last) < 250*time.Millisecond {
					return // at most 4 a second
				}
				last, lastPhase = time.Now(), p.Phase
				s.core.emit("restore:progress", RestoreProgress{BackupID: b.ID, Phase: p.Phase, ReadBytes: p.ReadBytes, Total: p.Total, Item: p.Item})
			}})
		done := RestoreFinished{BackupID: b.ID, DurationSeconds: time.Since(started).Seconds()}
		switch {
		case err != nil:
			done.Error = err.Error()
			done.Cancelled = ctx.Err() != nil
			done.Problem = engine.RestoreProblem(err)
			errors.As(err, &done.Roles)
		default:
			done.RolesCreated = rr.RolesCreated
			done.OK, done.Database, done.Warnings, done.IgnoredErrors, done.ViaTempFile = true, rr.Database, rr.Warnings, rr.IgnoredErrors, rr.ViaTempFile
			done.Notes, done.Rows, done.Connection = rr.Notes, &rr.Rows, rr.Connection
		}
		s.core.emit("restore:finished", done)
	}()
	return nil
}

// Cancel stops the running restore (pg_restore is stopped; a new database
// it was creating is left as it is, and the result says so).
func (s *RestoreService) Cancel() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return errors.New("no restore is running")
	}
	s.cancel()
	return nil
}

// ImportedView is a backup brought in from a file or a storage.
type ImportedView struct {
	BackupView
	Database      string `json:"database"`
	ServerVersion string `json:"serverVersion"`
	RowsCounted   bool   `json:"rowsCounted"`
	File          string `json:"file,omitempty"`
}

// ImportFile adds the backup file at path to the history (see
// engine.ImportFile) and describes it.
func (s *RestoreService) ImportFile(path string) (ImportedView, error) {
	e, err := s.core.engine()
	if err != nil {
		return ImportedView{}, err
	}
	b, err := e.ImportFile(context.Background(), strings.TrimSpace(path))
	if err != nil {
		return ImportedView{}, err
	}
	return importedView(engine.DescribeImported(b)), nil
}

// Imported lists the backups imported into the history, newest first.
func (s *RestoreService) Imported() ([]ImportedView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	bs, err := e.ImportedBackups(context.Background())
	if err != nil {
		return nil, err
	}
	out := []ImportedView{}
	for _, b := range bs {
		out = append(out, importedView(b))
	}
	return out, nil
}

func importedView(b engine.ImportedBackup) ImportedView {
	return ImportedView{BackupView: backupView(b.BackupRow), Database: b.Database, File: b.File,
		ServerVersion: b.ServerVersion, RowsCounted: b.RowsCounted}
}

// DrillServer says whether and where drills run (never the password).
func (s *RestoreService) DrillServer() (engine.DrillServer, error) {
	e, err := s.core.engine()
	if err != nil {
		return engine.DrillServer{}, err
	}
	return e.DrillServer(context.Background())
}

// SetDrillServer checks and stores the drill server's URL ("" removes it).
func (s *RestoreService) SetDrillServer(url string) (engine.DrillServer, error) {
	e, err := s.core.engine()
	if err != nil {
		return engine.DrillServer{}, err
	}
	if err := e.SetDrillServer(context.Background(), strings.TrimSpace(url)); err != nil {
		return engine.DrillServer{}, err
	}
	return e.DrillServer(context.Background())
}

// DrillPolicy is the named database's automatic drills.
func (s *RestoreService) DrillPolicy(db string) (engine.DrillPolicy, error) {
	e, err := s.core.engine()
	if err != nil {
		return engine.DrillPolicy{}, err
	}
	return e.DrillPolicy(context.Background(), db)
}

// SetDrillPolicy sets the named database's automatic drills.
func (s *RestoreService) SetDrillPolicy(db string, p engine.DrillPolicy) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.SetDrillPolicy(context.Background(), db, p)
}

// LastCheck is the named database's latest verification or drill.
func (s *RestoreService) LastCheck(db string) (engine.LastCheck, error) {
	e, err := s.core.engine()
	if err != nil {
		return engine.LastCheck{}, err
	}
	return e.LastCheck(context.Background(), db)
}
