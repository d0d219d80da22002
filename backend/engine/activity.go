package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pgsafe/pgsafe/backend/activity"
	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ActivityFilter narrows Activity. Days > 0 keeps the last N days;
// Database keeps the entries about that database; Kind is one of
// activity.Kinds; Outcome "ok", or "failed" for every entry that did not go
// well (failed, denied, partial). Limit 0 is 500.
type ActivityFilter struct {
	ActionPrefix string
	Outcome      string
	Database     string
	Kind         string
	Days         int
	Limit        int
	Offset       int
}

// ActivityEntry is one audit log entry in words (activity.Describe), with
// the raw entry beside it.
type ActivityEntry struct {
	Seq     int64
	At      time.Time
	Actor   string
	Action  string
	Outcome string
	Target  string
	Fields  map[string]string
	Message string

	// Sentence may hold "{when}", the time SentenceTime (RFC 3339) written
	// in the reader's locale.
	Sentence     string
	SentenceTime string
	Kind         string
	Database     string
}

// activityPage is how many entries are read at a time while filtering by
// kind, database or a failed outcome (which the log's own filter does not
// know).
const activityPage = 500

// Activity is the audit log's entries in words, newest first.
func (e *Engine) Activity(ctx context.Context, f ActivityFilter) ([]ActivityEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	af := audit.Filter{ActionPrefix: f.ActionPrefix}
	if f.Outcome == audit.OK {
		af.Outcome = audit.OK
	}
	if f.Days > 0 {
		af.From = time.Now().AddDate(0, 0, -f.Days)
	}
	keep := func(r audit.Record) bool {
		return (f.Outcome != audit.Failed || r.Outcome != audit.OK) &&
			(f.Kind == "" || string(activity.KindOf(r.Action)) == f.Kind) &&
			(f.Database == "" || activity.Database(r) == f.Database)
	}
	facts := backupFacts{e: e, ctx: ctx}
	out := []ActivityEntry{}
	skip := max(f.Offset, 0)
	for from := 0; len(out) < limit; from += activityPage {
		af.Limit, af.Offset = activityPage, from
		recs, err := e.auditLog.List(ctx, af)
		if err != nil {
			return out, err
		}
		for _, r := range recs {
			if !keep(r) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(out) < limit {
				out = append(out, activityEntry(r, facts.of(r.Fields["backup_id"])))
			}
		}
		if len(recs) < activityPage {
			break
		}
	}
	return out, nil
}

func activityEntry(r audit.Record, b *activity.Backup) ActivityEntry {
	s := activity.Describe(r, b)
	v := ActivityEntry{Seq: r.Seq, At: r.At, Actor: r.Actor, Action: r.Action, Outcome: r.Outcome, Target: r.Target, Fields: r.Fields,
		Message: r.Message, Sentence: s.Text, Kind: string(activity.KindOf(r.Action)), Database: activity.Database(r)}
	if !s.When.IsZero() {
		v.SentenceTime = s.When.UTC().Format(time.RFC3339)
	}
	return v
}

// backupFacts looks up, once each, the backups entries name.
type backupFacts struct {
	e        *Engine
	ctx      context.Context
	cache    map[string]*activity.Backup
	storages map[int64]string
}

func (f *backupFacts) of(id string) *activity.Backup {
	if id == "" {
		return nil
	}
	if b, ok := f.cache[id]; ok {
		return b
	}
	if f.cache == nil {
		f.cache = map[string]*activity.Backup{}
		f.storages = f.e.storageNames(f.ctx)
	}
	var out *activity.Backup
	if b, err := f.e.FindBackup(f.ctx, id, ""); err == nil {
		out = &activity.Backup{Started: b.StartedAt}
		if !b.FinishedAt.IsZero() && b.FinishedAt.After(b.StartedAt) {
			out.Duration = b.FinishedAt.Sub(b.StartedAt)
		}
		for _, c := range b.Copies {
			if name := f.storages[c.StorageID]; name != "" && (c.Status == store.CopyWritten || c.Status == store.CopyDeleted) {
				out.Storages = append(out.Storages, name)
			}
		}
	}
	f.cache[id] = out
	return out
}

// VerifyAudit checks the audit log's whole chain: intact up to its last
// entry, or the first entry that is broken.
func (e *Engine) VerifyAudit(ctx context.Context) (audit.Report, error) {
	return e.auditLog.Verify(ctx)
}

// ExportAudit writes the audit log's entries, oldest first, to w as "json"
// (an array) or "csv" (docs/AUDIT.md).
func (e *Engine) ExportAudit(ctx context.Context, w io.Writer, format string) error {
	write := audit.WriteJSON
	switch format {
	case "json":
	case "csv":
		write = audit.WriteCSV
	default:
		return fmt.Errorf("an audit export is json or csv, not %q", format)
	}
	recs, err := e.auditLog.List(ctx, audit.Filter{}) // newest first
	if err != nil {
		return err
	}
	slices.Reverse(recs)
	return write(w, recs)
}
