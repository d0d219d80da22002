package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// What a face lists about backups and states, computed here once so the
// window, the tray and the CLI say the same thing.

// BackupRow is one backup as a face lists it.
type BackupRow struct {
	ID       string
	Database string
	// Status is what the history shows (store.Backup.Shown): a succeeded
	// backup whose every copy retention deleted is "pruned".
	Status     string
	Origin     string
	Started    time.Time
	Duration   time.Duration // 0: not finished
	RawSize    int64
	StoredSize int64
	File       string // an imported file's path
	Error      string // the technical detail
	// Reason is why it failed (or which storages lack it) in a sentence;
	// Blame is what failed: "database" (connecting, the role), "pg_dump",
	// "storage", or "" when PgSafe cannot tell.
	Reason string
	Blame  string
	Copies []CopyRow
	// Kept are the IDs of the storages that hold a copy (written, not
	// failed nor deleted by retention), in the copies' order.
	Kept []int64
	// Checked is the backup's latest verification or drill (nil: never, or
	// not read: see BackupHistory).
	Checked *CheckSummary
}

// CopyRow is a backup's result on one storage.
type CopyRow struct {
	Storage string // its name ("a removed storage" once it is gone)
	Status  string // written, failed, deleted (by retention)
	Error   string
	// Kept says why retention left this written copy, which it would have
	// deleted: "kept until DATE: the storage's lock", "kept: the storage
	// refuses deletes". Empty otherwise.
	Kept string
}

// CheckSummary is a backup's latest verification or drill.
type CheckSummary struct {
	Kind    string // "verify" or "drill"
	OK      bool
	When    time.Time
	Problem string
	// Summary is a passed drill in a sentence (DrillSummary): tables, row
	// counts, restore time and where it ran.
	Summary string
}

// DescribeBackup is b as a face lists it; storages names the storages by
// ID (nil: every copy's storage is "a removed storage").
func DescribeBackup(b store.Backup, storages map[int64]string) BackupRow {
	r := BackupRow{ID: b.ID, Database: b.DatabaseName, Status: string(b.Shown()), Origin: b.Origin, Started: b.StartedAt,
		RawSize: b.RawSize, StoredSize: b.StoredSize, File: b.File, Error: b.Error, Copies: []CopyRow{}, Kept: []int64{}}
	if !b.FinishedAt.IsZero() {
		r.Duration = b.FinishedAt.Sub(b.StartedAt)
	}
	for _, c := range b.Copies {
		name := storages[c.StorageID]
		if name == "" {
			name = "a removed storage"
		}
		r.Copies = append(r.Copies, CopyRow{Storage: name, Status: string(c.Status), Error: c.Error, Kept: c.Kept})
		if c.Status == store.CopyWritten {
			r.Kept = append(r.Kept, c.StorageID)
		}
		if c.Status == store.CopyFailed {
			r.Blame = "storage"
		}
	}
	if b.Error != "" {
		r.Reason = status.Cause(b)
		if r.Blame == "" && b.Status == store.StatusFailed {
			r.Blame = failureBlame(b.Error)
		}
	} else if b.GlobalsMissing != "" {
		r.Reason = "Saved without the server's roles: " + strings.TrimSuffix(b.GlobalsMissing, ".") + "."
	}
	return r
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

// storageNames names the storages by ID (empty when they cannot be read:
// the rows then say "a removed storage").
func (e *Engine) storageNames(ctx context.Context) map[int64]string {
	names := map[int64]string{}
	if sts, err := e.store.Storages(ctx); err == nil {
		for _, st := range sts {
			names[st.ID] = st.Name
		}
	}
	return names
}

// BackupHistory is the named database's backups as rows, newest first
// (limit 0: all), each with its latest verification or drill.
func (e *Engine) BackupHistory(ctx context.Context, name string, limit int) ([]BackupRow, error) {
	bs, err := e.Backups(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	checked := map[string]*CheckSummary{}
	if len(bs) > 0 && bs[0].DatabaseID != 0 {
		runs, err := e.store.Restores(ctx, store.RestoreFilter{DatabaseID: bs[0].DatabaseID, IncludeDamaged: true})
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
			if r.Kind == store.RunDrill && cs.OK && len(r.Data) > 0 {
				var res restore.Result
				if json.Unmarshal(r.Data, &res) == nil {
					cs.Summary = DrillSummary(&res)
				}
			}
			checked[r.BackupID] = cs
		}
	}
	names := e.storageNames(ctx)
	out := make([]BackupRow, len(bs))
	for i, b := range bs {
		out[i] = DescribeBackup(b, names)
		out[i].Checked = checked[b.ID]
	}
	return out, nil
}

// ImportedBackup is a backup brought in from a file or a storage, with
// what its manifest says.
type ImportedBackup struct {
	BackupRow
	ServerVersion string
	RowsCounted   bool
}

// DescribeImported is an imported backup as a face lists it.
func DescribeImported(b store.Backup) ImportedBackup {
	v := ImportedBackup{BackupRow: DescribeBackup(b, nil)}
	if m, err := manifest(b); err == nil {
		v.ServerVersion, v.RowsCounted = m.ServerVersion, m.RowsCounted
	}
	return v
}

// ImportedBackups are the backups imported into the history, newest first.
func (e *Engine) ImportedBackups(ctx context.Context) ([]ImportedBackup, error) {
	bs, err := e.store.Backups(ctx, store.BackupFilter{})
	if err != nil {
		return nil, err
	}
	out := []ImportedBackup{}
	for _, b := range bs {
		if b.Origin != store.OriginImport {
			continue
		}
		if b.Manifest, err = e.store.Manifest(ctx, b.ID); err != nil {
			return nil, err
		}
		out = append(out, DescribeImported(b))
	}
	return out, nil
}

// RecentBackup is one point of a database's backup history chart.
type RecentBackup struct {
	Started    time.Time
	OK         bool
	StoredSize int64
	Duration   time.Duration // 0: not recorded
}

// Recent is the database's newest n backups that succeeded or failed,
// oldest first: the card's size and duration chart.
func (d DatabaseStatus) Recent(n int) []RecentBackup {
	out := []RecentBackup{}
	bs := d.History[:min(len(d.History), n)]
	for i := len(bs) - 1; i >= 0; i-- {
		b := bs[i]
		if b.Status != store.StatusSucceeded && b.Status != store.StatusFailed {
			continue
		}
		p := RecentBackup{Started: b.StartedAt, OK: b.Status == store.StatusSucceeded, StoredSize: b.StoredSize}
		if !b.FinishedAt.IsZero() {
			p.Duration = b.FinishedAt.Sub(b.StartedAt)
		}
		out = append(out, p)
	}
	return out
}

// LastRow is the newest backup that ran to an end as a row (nil: none).
func (d DatabaseStatus) LastRow() *BackupRow {
	if d.Last == nil {
		return nil
	}
	r := DescribeBackup(*d.Last, nil)
	return &r
}

// Summary is every database's state at a glance: the tray's icon and menu.
type Summary struct {
	Databases []string // sorted
	// Lines are every database's state, sorted by name.
	Lines []StateLine
	// Failing: failing or unprotected; Attention: needing attention.
	Failing   []string
	Attention []string
	// Worst is the worst state; Reason the first reason of the first
	// database in that state.
	Worst  status.State
	Reason string
	// Last is the newest backup that ran to an end, of any database (not
	// imported, running or cancelled; nil: none).
	Last *LastFinished
}

// StateLine is one database's state in a line: its first reason ("" when
// protected).
type StateLine struct {
	Database string
	Server   string // the server entry a server's database belongs to ("": none)
	State    status.State
	Reason   string
	// Databases are a server entry's databases' lines (in ByEntry only).
	Databases []StateLine
}

// LastFinished is the newest backup that ran to an end.
type LastFinished struct {
	Database  string
	Succeeded bool
	Finished  time.Time
}

// Summary sums the states up.
func (o Overall) Summary() Summary {
	s := Summary{Worst: status.Protected}
	for _, d := range o.Databases {
		s.Databases = append(s.Databases, d.Name)
		line := StateLine{Database: d.Name, Server: d.Server, State: d.State}
		if len(d.Reasons) > 0 && d.State != status.Protected {
			line.Reason = d.Reasons[0].Message
		}
		s.Lines = append(s.Lines, line)
		if l := d.Last; l != nil && (s.Last == nil || l.FinishedAt.After(s.Last.Finished)) {
			s.Last = &LastFinished{Database: d.Name, Succeeded: l.Status == store.StatusSucceeded, Finished: l.FinishedAt}
		}
		switch d.State {
		case status.Failing, status.Unprotected:
			s.Failing = append(s.Failing, d.Name)
		case status.Attention:
			s.Attention = append(s.Attention, d.Name)
		}
		if w := status.Worse(s.Worst, d.State); w != s.Worst || (s.Reason == "" && d.State != status.Protected) {
			s.Worst = w
			if len(d.Reasons) > 0 {
				s.Reason = d.Reasons[0].Message
			}
		}
	}
	sort.Strings(s.Databases)
	sort.Slice(s.Lines, func(i, j int) bool { return s.Lines[i].Database < s.Lines[j].Database })
	return s
}

// ByEntry is s for a face that lists each entry once (the tray): a server
// entry's databases are in its line's Databases instead of lines of their
// own (its state is already the worst of theirs), and Databases, Failing,
// Attention and Reason count entries, so that a failing database of a
// server is one failing entry, not two. Last is s's.
func (s Summary) ByEntry() Summary {
	out := Summary{Worst: status.Protected, Last: s.Last}
	under := map[string][]StateLine{}
	for _, l := range s.Lines {
		if l.Server != "" {
			under[l.Server] = append(under[l.Server], l)
		}
	}
	for _, l := range s.Lines {
		if l.Server != "" {
			continue
		}
		l.Databases = under[l.Database]
		out.Databases = append(out.Databases, l.Database)
		out.Lines = append(out.Lines, l)
		switch l.State {
		case status.Failing, status.Unprotected:
			out.Failing = append(out.Failing, l.Database)
		case status.Attention:
			out.Attention = append(out.Attention, l.Database)
		}
		if w := status.Worse(out.Worst, l.State); w != out.Worst || (out.Reason == "" && l.State != status.Protected) {
			out.Worst, out.Reason = w, l.Reason
		}
	}
	return out
}

// FirstTime records that a one-time thing a face shows (a hint, say) was
// shown, under the setting key, and reports whether this is the first time.
func (e *Engine) FirstTime(ctx context.Context, key string) (bool, error) {
	return e.store.SetSetting(ctx, key, "1")
}

// StartBackup begins a backup of the named database by hand in the
// background, with ctx, and tells done how it ended. It fails at once if
// the database does not exist or a backup of it is already running; its
// progress and end arrive on the event stream like every job's.
func (e *Engine) StartBackup(ctx context.Context, name string, done func(error)) error {
	for _, r := range e.RunningBackups() {
		if r.DatabaseName == name {
			return fmt.Errorf("a backup of %s is already running", name)
		}
	}
	if _, err := e.dbID(ctx, name); err != nil {
		return err
	}
	go func() {
		_, err := e.BackupByHand(ctx, name, nil)
		done(err)
	}()
	return nil
}
