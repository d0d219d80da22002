package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Jobs a face starts and follows to their end: the command line's backup,
// verify, drill and restore when PgSafe's agent runs them. Each start
// returns at once with a JobTicket; the job's progress is on the engine's
// event stream ("engine:event" with the ticket's Job and JobID) like every
// other job's, and its end is one EventJobResult with the ticket, carrying
// what the command prints. A job goes on when the face that started it
// goes; CancelJob stops it.

// EventJobResult is the event that ends a job started by StartJob,
// StartCheck or StartRestoreJob (a JobResult).
const EventJobResult = "job:result"

// JobTicket is a job a face started.
type JobTicket struct {
	Ticket   string `json:"ticket"`   // this job among all (CancelJob, EventJobResult)
	Job      string `json:"job"`      // backup, verify, drill or restore (engine.Job*)
	JobID    string `json:"jobId"`    // its engine events' JobID: the new backup's ID, or the backup checked or restored
	Database string `json:"database"` // the database backed up, or the backup's
}

// JobResult is how a job started by a face ended (EventJobResult).
type JobResult struct {
	JobTicket
	// Error says why the job failed or was cancelled ("" when it ran to
	// its end; a check that found the backup bad ran to its end).
	Error     string `json:"error,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	// Backup is a backup's record (a backup written to some storages but
	// not all has Error set and no JobResult.Error).
	Backup *store.Backup `json:"backup,omitempty"`
	// Check is a verify's or drill's result.
	Check *restore.Result `json:"check,omitempty"`
	// Restore is a restore's result.
	Restore *restore.RestoreResult `json:"restore,omitempty"`
	// Roles is why a restore did not start: roles the backup names that the
	// target lacks or the restoring role cannot give objects to.
	Roles *restore.RolesProblem `json:"roles,omitempty"`
}

// BackupSource names the backup a check or restore reads: File (an
// absolute path to a .pgsafe file, imported into the history first), else
// Backup (an ID, or "latest" of Database) from Storage (imported into the
// history first) or from the history.
type BackupSource struct {
	Backup   string `json:"backup"`
	Database string `json:"database,omitempty"`
	Storage  string `json:"storage,omitempty"`
	File     string `json:"file,omitempty"`
}

// CheckRequest asks for a verify, or with DrillURL a drill on that server
// (its credentials are used for this drill only: never stored or logged).
// With Drill and no DrillURL, the drill runs in a throwaway local cluster.
type CheckRequest struct {
	BackupSource
	DrillURL string `json:"drillUrl,omitempty"`
	Drill    bool   `json:"drill,omitempty"`
}

// RestoreJobRequest asks for a restore into the database To names. To
// carries write credentials: they are used for this restore only, never
// stored or logged. Owners and grants are kept unless NoOwner or
// NoPrivileges; missing roles are created (CreateRoles) or mapped (RoleMap)
// when asked, else the restore stops before writing (JobResult.Roles).
type RestoreJobRequest struct {
	BackupSource
	To               string            `json:"to"`
	Replace          bool              `json:"replace"`
	Jobs             int               `json:"jobs"`
	NoOwner          bool              `json:"noOwner"`
	NoPrivileges     bool              `json:"noPrivileges"`
	NoTablespaces    bool              `json:"noTablespaces"`
	CreateRoles      bool              `json:"createRoles"`
	CreateRolesLogin bool              `json:"createRolesLogin"`
	RoleMap          map[string]string `json:"roleMap,omitempty"`
}

// faceJobs are the jobs faces started that are still running, by ticket:
// how to cancel each.
type faceJobs struct {
	mu      sync.Mutex
	cancels map[string]faceJob
}

type faceJob struct {
	job    string
	cancel context.CancelCauseFunc
}

func (j *faceJobs) add(ticket, job string, cancel context.CancelCauseFunc) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cancels == nil {
		j.cancels = map[string]faceJob{}
	}
	j.cancels[ticket] = faceJob{job: job, cancel: cancel}
}

func (j *faceJobs) remove(ticket string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.cancels, ticket)
}

// cancel stops the job of ticket if it is one of jobs.
func (j *faceJobs) cancel(ticket string, jobs ...string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	fj, ok := j.cancels[ticket]
	if !ok {
		return errors.New("that job is not running (it has ended)")
	}
	for _, k := range jobs {
		if fj.job == k {
			fj.cancel(engine.ErrCancelled)
			return nil
		}
	}
	return fmt.Errorf("that job is a %s", fj.job)
}

func newTicket() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// faceJob starts fn as the job of ticket t in the background: it ends when
// the agent stops or CancelJob is called. Its result, unless nil, is emitted.
func (c *Core) faceJob(t JobTicket, fn func(ctx context.Context) *JobResult) {
	ctx, done := c.work()
	ctx, cancel := context.WithCancelCause(ctx)
	c.jobs.add(t.Ticket, t.Job, cancel)
	go func() {
		defer done()
		defer cancel(nil)
		res := fn(ctx)
		c.jobs.remove(t.Ticket)
		if res == nil {
			return
		}
		res.JobTicket = t
		if res.Error != "" && ctx.Err() != nil {
			res.Cancelled = true
		}
		c.emit(EventJobResult, *res)
	}()
}

// StartJob begins a backup of the named database in the background, like
// Start, and returns once it has started (or why it could not: no such
// database, no storage, a backup of it already running). It ends in an
// EventJobResult with the backup's record.
func (s *BackupService) StartJob(db string) (JobTicket, error) {
	e, err := s.core.engine()
	if err != nil {
		return JobTicket{}, err
	}
	t := JobTicket{Ticket: newTicket(), Job: engine.JobBackup, Database: db}
	started := make(chan string, 1)
	refused := make(chan error, 1)
	s.core.faceJob(t, func(ctx context.Context) *JobResult {
		didStart := false // set on this goroutine: BackupNow calls the hook on it
		ctx = engine.WithJobStarted(ctx, func(id string) {
			if !didStart {
				didStart = true
				started <- id
			}
		})
		b, err := e.BackupByHand(ctx, db, nil)
		if !didStart { // StartJob says why it did not start
			if err == nil {
				err = fmt.Errorf("the backup of %s did not start", db)
			}
			refused <- err
			return nil
		}
		var res JobResult
		if err != nil {
			s.core.log.Info("backup did not succeed", "database", db, "err", err)
			res.Error = err.Error()
		}
		if b != nil {
			rec := *b
			rec.Manifest = nil // the face needs the record, not the table list
			res.Backup = &rec
		}
		return &res
	})
	select {
	case t.JobID = <-started:
		return t, nil
	case err := <-refused:
		return JobTicket{}, err
	}
}

// CancelJob stops a backup StartJob started; it ends as cancelled, keeping
// nothing, and its EventJobResult says so.
func (s *BackupService) CancelJob(ticket string) error {
	return s.core.jobs.cancel(ticket, engine.JobBackup)
}

// source is the backup src names (imported into the history first when it
// is a file or in a storage).
func (c *Core) source(ctx context.Context, e *engine.Engine, src BackupSource) (store.Backup, error) {
	switch {
	case strings.TrimSpace(src.File) != "":
		return e.ImportFile(ctx, strings.TrimSpace(src.File))
	case src.Storage != "":
		return e.ImportStoredBackup(ctx, src.Storage, src.Backup)
	}
	return e.FindBackup(ctx, src.Backup, src.Database)
}

// StartCheck begins a verify of the backup req names, or with DrillURL a
// drill on that server, and returns once the backup is found; the check's
// result (a bad backup is a result, not an error) ends in an
// EventJobResult.
func (s *RestoreService) StartCheck(req CheckRequest) (JobTicket, error) {
	e, err := s.core.engine()
	if err != nil {
		return JobTicket{}, err
	}
	b, err := s.core.source(context.Background(), e, req.BackupSource)
	if err != nil {
		return JobTicket{}, err
	}
	t := JobTicket{Ticket: newTicket(), Job: engine.JobVerify, JobID: b.ID, Database: b.DatabaseName}
	local := req.Drill && req.DrillURL == ""
	if req.DrillURL != "" || local {
		t.Job = engine.JobDrill
	}
	s.core.faceJob(t, func(ctx context.Context) *JobResult {
		check := e.VerifyBackup
		if local {
			check = func(ctx context.Context, b store.Backup, _ string) (*restore.Result, error) {
				return e.DrillBackupLocal(ctx, b)
			}
		}
		res, err := check(ctx, b, req.DrillURL)
		if err != nil {
			return &JobResult{Error: err.Error()}
		}
		return &JobResult{Check: res}
	})
	return t, nil
}

// StartRestoreJob begins a restore of the backup req names into the
// database req.To names, and returns once the backup is found. Its progress
// is on the engine's event stream; it ends in an EventJobResult.
func (s *RestoreService) StartRestoreJob(req RestoreJobRequest) (JobTicket, error) {
	if strings.TrimSpace(req.To) == "" {
		return JobTicket{}, errors.New("give the target as postgres://user:password@host:5432/newdb")
	}
	e, err := s.core.engine()
	if err != nil {
		return JobTicket{}, err
	}
	b, err := s.core.source(context.Background(), e, req.BackupSource)
	if err != nil {
		return JobTicket{}, err
	}
	t := JobTicket{Ticket: newTicket(), Job: engine.JobRestore, JobID: b.ID, Database: b.DatabaseName}
	to := engine.RestoreTarget{URL: req.To}
	opts := engine.RestoreOptions{Replace: req.Replace, Jobs: req.Jobs, NoOwner: req.NoOwner, NoPrivileges: req.NoPrivileges,
		NoTablespaces: req.NoTablespaces, CreateRoles: req.CreateRoles, CreateRolesLogin: req.CreateRolesLogin, RoleMap: req.RoleMap}
	s.core.faceJob(t, func(ctx context.Context) *JobResult {
		rr, err := e.RestoreBackup(ctx, b, to, opts)
		if err != nil {
			res := &JobResult{Error: err.Error()}
			errors.As(err, &res.Roles)
			return res
		}
		return &JobResult{Restore: rr}
	})
	return t, nil
}

// CancelJob stops a verify, drill or restore StartCheck or StartRestoreJob
// started (a restore stops pg_restore; a database it was creating is left as
// it is); its EventJobResult says it was cancelled.
func (s *RestoreService) CancelJob(ticket string) error {
	return s.core.jobs.cancel(ticket, engine.JobVerify, engine.JobDrill, engine.JobRestore)
}
