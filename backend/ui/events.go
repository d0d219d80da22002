package ui

import (
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/status"
)

// EventEngine is the Wails event that carries the engine's job event
// stream to the window (EngineEvent): every backup, verify, drill and
// restore, whatever started it, and every database's new state. The window
// subscribes to it once.
const EventEngine = "engine:event"

// EngineEvent is engine.JobEvent in the window's terms.
type EngineEvent struct {
	Type     string    `json:"type"` // job.started, job.progress, job.finished, status.changed
	Job      string    `json:"job,omitempty"`
	JobID    string    `json:"jobId,omitempty"`
	Database string    `json:"database,omitempty"`
	Origin   string    `json:"origin,omitempty"`
	At       time.Time `json:"at"`
	// Backup: a backup's progress.
	Backup *ProgressView `json:"backup,omitempty"`
	// Restore: a verify's, drill's or restore's progress.
	Restore *RestoreProgress `json:"restore,omitempty"`
	// job.finished: succeeded, partial, failed or cancelled, and why.
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
	// status.changed: the database's state now (nil: it was removed).
	Status *StatusView `json:"status,omitempty"`
}

// forward turns an engine event into a window event; it runs on the
// engine's goroutine and reads nothing (the status carries its history).
func (c *Core) forward(ev engine.JobEvent) {
	v := EngineEvent{Type: ev.Type, Job: ev.Job, JobID: ev.JobID, Database: ev.Database, Origin: ev.Origin,
		At: ev.At, Outcome: ev.Outcome, Error: ev.Error}
	if p := ev.Backup; p != nil {
		pv := progressView(ev.Database, ev.JobID, *p)
		v.Backup = &pv
	}
	if p := ev.Restore; p != nil {
		v.Restore = &RestoreProgress{BackupID: ev.JobID, Phase: p.Phase, ReadBytes: p.ReadBytes, Total: p.Total, Item: p.Item}
	}
	if ev.Status != nil {
		sv := statusView(*ev.Status)
		v.Status = &sv
	}
	c.emit(EventEngine, v)
}

// StatusView is a database's state as the window shows it (see package
// status): its state, its reasons worst first, its newest backups.
type StatusView struct {
	Name           string          `json:"name"`
	State          status.State    `json:"state"`
	Reasons        []status.Reason `json:"reasons"`
	LastGoodBackup *time.Time      `json:"lastGoodBackup"`
	LastGoodSize   int64           `json:"lastGoodSize"`
	// LastBackup is the newest backup that ended (nil: none).
	LastBackup *LastBackupView `json:"lastBackup"`
	NextRun    *time.Time      `json:"nextRun"` // nil: no schedule
	// Recent are the newest backups (up to 30), oldest first: the card's
	// size and duration chart.
	Recent []RecentBackup `json:"recent"`
	// Server names the server entry of a server's database; AllDatabases
	// marks a server entry (its state is the worst of its databases').
	Server       string `json:"server,omitempty"`
	AllDatabases bool   `json:"allDatabases,omitempty"`
	// Appeared are a server entry's databases that were new on the server
	// at its latest run (entry names).
	Appeared []string `json:"appeared,omitempty"`
}

// LastBackupView is the newest finished backup of a database.
type LastBackupView struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Error   string    `json:"error,omitempty"`
}

// RecentBackup is one point of a database's backup history chart.
type RecentBackup struct {
	Started         time.Time `json:"started"`
	OK              bool      `json:"ok"`
	StoredSize      int64     `json:"storedSize"`
	DurationSeconds float64   `json:"durationSeconds"`
}

// recentBackups is how many backups the card's chart shows.
const recentBackups = 30

func statusView(d engine.DatabaseStatus) StatusView {
	v := StatusView{Name: d.Name, State: d.State, Reasons: d.Reasons, Recent: []RecentBackup{}, Server: d.Server, AllDatabases: d.AllDatabases, Appeared: d.Appeared}
	if g := d.LastGood; g != nil {
		at := g.StartedAt
		v.LastGoodBackup, v.LastGoodSize = &at, g.StoredSize
	}
	if l := d.LastRow(); l != nil {
		v.LastBackup = &LastBackupView{ID: l.ID, Status: l.Status, Started: l.Started, Error: l.Error}
	}
	if !d.NextRun.IsZero() {
		next := d.NextRun
		v.NextRun = &next
	}
	for _, b := range d.Recent(recentBackups) {
		v.Recent = append(v.Recent, RecentBackup{Started: b.Started, OK: b.OK, StoredSize: b.StoredSize, DurationSeconds: b.Duration.Seconds()})
	}
	return v
}
