package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/engine"
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
	ctx, done := s.core.work()
	err = e.StartBackup(ctx, db, func(err error) {
		defer done()
		if err != nil {
			s.core.log.Info("backup did not succeed", "database", db, "err", err)
		}
	})
	if err != nil {
		done()
	}
	return err
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
	// Kept: why retention left this copy ("kept until DATE: the storage's
	// lock"); empty otherwise.
	Kept string `json:"kept,omitempty"`
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
	Summary string    `json:"summary,omitempty"` // a passed drill in a sentence
}

// List is the named database's backups, newest first (limit 0: all).
func (s *BackupService) List(db string, limit int) ([]BackupView, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	rows, err := e.BackupHistory(context.Background(), db, limit)
	if err != nil {
		return nil, err
	}
	out := make([]BackupView, len(rows))
	for i, r := range rows {
		out[i] = backupView(r)
	}
	return out, nil
}

func backupView(r engine.BackupRow) BackupView {
	v := BackupView{ID: r.ID, Status: r.Status, Origin: r.Origin, Started: r.Started, DurationSeconds: r.Duration.Seconds(),
		RawSize: r.RawSize, StoredSize: r.StoredSize, Error: r.Error, Reason: r.Reason, Blame: r.Blame,
		Copies: make([]CopyView, len(r.Copies)), Checked: (*CheckSummary)(r.Checked)}
	for i, c := range r.Copies {
		v.Copies[i] = CopyView(c)
	}
	return v
}
