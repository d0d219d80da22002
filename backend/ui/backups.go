package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// BackupService is a database's backups: back up now (with progress events
// and cancel) and the history.
type BackupService struct{ core *Core }

// NewBackupService returns the service bound as BackupService.
func NewBackupService(c *Core) *BackupService { return &BackupService{core: c} }

// ProgressView is a running backup's progress, in numbers the UI shows.
type ProgressView struct {
	Database       string                   `json:"database"`
	BackupID       string                   `json:"backupId"`
	Phase          string                   `json:"phase"`
	Table          string                   `json:"table,omitempty"`
	RawBytes       int64                    `json:"rawBytes"`
	EstimatedBytes int64                    `json:"estimatedBytes"`
	StoredBytes    int64                    `json:"storedBytes"`
	BytesPerSecond float64                  `json:"bytesPerSecond"`
	ElapsedSeconds float64                  `json:"elapsedSeconds"`
	ETASeconds     float64                  `json:"etaSeconds"` // 0: unknown
	Storages       []backup.StorageProgress `json:"storages"`
	// Waiting: what the backup waits for (a lock another session holds).
	Waiting string `json:"waiting,omitempty"`
}

func progressView(db, id string, p backup.Progress) ProgressView {
	return ProgressView{Database: db, BackupID: id, Phase: string(p.Phase), Table: p.Table, RawBytes: p.RawBytes,
		EstimatedBytes: p.EstimatedBytes, StoredBytes: p.StoredBytes, BytesPerSecond: p.BytesPerSecond,
		ElapsedSeconds: p.Elapsed.Seconds(), ETASeconds: p.ETA.Seconds(), Storages: p.Storages, Waiting: p.Waiting}
}

// Start begins a backup of the named database in the background. Its
// progress and end arrive on the engine's event stream ("engine:event":
// job.started, job.progress at most 4 a second, job.finished, then the
// database's status.changed), like every other job's. It fails at once if
// the database does not exist or a backup of it is already running.
func (s *BackupService) Start(db string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	for _, r := range e.RunningBackups() {
		if r.DatabaseName == db {
			return fmt.Errorf("a backup of %s is already running", db)
		}
	}
	if _, err := e.Backups(context.Background(), db, 1); err != nil { // the database exists
		return err
	}
	ctx, done := s.core.work()
	go func() {
		defer done()
		if _, err := e.BackupNow(ctx, db, store.OriginManual, nil); err != nil {
			s.core.log.Info("backup did not succeed", "database", db, "err", err)
		}
	}()
	return nil
}

// Cancel stops the named database's running backup.
func (s *BackupService) Cancel(db string) error {
	e, err := s.core.engine()
	if err != nil {
		return err
	}
	return e.CancelBackup(db)
}

// Running lists the backups in progress with their latest progress.
func (s *BackupService) Running() ([]ProgressView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	out := []ProgressView{}
	for _, r := range e.RunningBackups() {
		out = append(out, progressView(r.DatabaseName, r.BackupID, r.Progress()))
	}
	return out, nil
}

// CopyView is a backup's result on one storage.
type CopyView struct {
	Storage string `json:"storage"`
	Status  string `json:"status"` // written, failed, deleted (by retention)
	Error   string `json:"error,omitempty"`
}

// BackupView is one row of a database's backups table.
type BackupView struct {
	ID              string    `json:"id"`
	Status          string    `json:"status"`
	Origin          string    `json:"origin"`
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"durationSeconds"`
	RawSize         int64     `json:"rawSize"`
	StoredSize      int64     `json:"storedSize"`
	Error           string    `json:"error,omitempty"` // the technical detail
	// Reason is why it failed (or which storages lack it) in a sentence;
	// Blame is what failed: "database" (connecting, the role), "pg_dump",
	// "storage", or "" when PgSafe cannot tell.
	Reason string     `json:"reason,omitempty"`
	Blame  string     `json:"blame,omitempty"`
	Copies []CopyView `json:"copies"`
	// Checked is the backup's latest verification or drill (nil: never).
	Checked *CheckSummary `json:"checked,omitempty"`
}

// CheckSummary is a backup's latest verification or drill.
type CheckSummary struct {
	Kind    string    `json:"kind"` // "verify" or "drill"
	OK      bool      `json:"ok"`
	When    time.Time `json:"when"`
	Problem string    `json:"problem,omitempty"`
}

// List is the named database's backups, newest first (limit 0: all).
func (s *BackupService) List(db string, limit int) ([]BackupView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	bs, err := e.Backups(ctx, db, limit)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	if sts, err := e.Storages(ctx); err == nil {
		for _, st := range sts {
			names[st.ID] = st.Name
		}
	}
	checked := map[string]*CheckSummary{}
	if len(bs) > 0 && bs[0].DatabaseID != 0 {
		runs, err := e.Store().Restores(ctx, store.RestoreFilter{DatabaseID: bs[0].DatabaseID, IncludeDamaged: true})
		if err != nil {
			return nil, err
		}
		for _, r := range runs { // newest first: keep the first of each backup
			if r.Kind == store.RunRestore || r.Status == store.StatusRunning || r.Status == store.StatusDamaged || checked[r.BackupID] != nil {
				continue
			}
			cs := &CheckSummary{Kind: r.Kind, OK: r.Status == store.StatusSucceeded, When: r.FinishedAt, Problem: r.Error}
			if len(r.Problems) > 0 {
				cs.Problem = r.Problems[0]
			}
			checked[r.BackupID] = cs
		}
	}
	out := make([]BackupView, len(bs))
	for i, b := range bs {
		out[i] = backupView(b, names)
		out[i].Checked = checked[b.ID]
	}
	return out, nil
}

func backupView(b store.Backup, names map[int64]string) BackupView {
	v := BackupView{ID: b.ID, Status: string(b.Shown()), Origin: b.Origin, Started: b.StartedAt, RawSize: b.RawSize,
		StoredSize: b.StoredSize, Error: b.Error, Copies: []CopyView{}}
	if !b.FinishedAt.IsZero() {
		v.DurationSeconds = b.FinishedAt.Sub(b.StartedAt).Seconds()
	}
	for _, c := range b.Copies {
		name := names[c.StorageID]
		if name == "" {
			name = "a removed storage"
		}
		v.Copies = append(v.Copies, CopyView{Storage: name, Status: string(c.Status), Error: c.Error})
		if c.Status == store.CopyFailed {
			v.Blame = "storage"
		}
	}
	if b.Error != "" {
		v.Reason = status.Cause(b)
		if v.Blame == "" && b.Status == store.StatusFailed {
			v.Blame = failureBlame(b.Error)
		}
	}
	return v
}

// failureBlame says what a whole-backup failure was caused by, from the
// words the engine records (pg.ConnError's "cannot connect to", pg_dump's
// own prefix).
func failureBlame(errText string) string {
	switch {
	case strings.Contains(errText, "cannot connect to"), strings.Contains(errText, "password authentication failed"),
		strings.Contains(errText, "permission denied"):
		return "database"
	case strings.Contains(errText, "pg_dump"):
		return "pg_dump"
	}
	return ""
}
