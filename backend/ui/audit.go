package ui

import (
	"context"
	"time"

	"github.com/pgsafe/pgsafe/backend/activity"
	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

// AuditService is the Activity screen: the audit log and its verification.
type AuditService struct{ core *Core }

// NewAuditService returns the service bound as AuditService.
func NewAuditService(c *Core) *AuditService { return &AuditService{core: c} }

// AuditFilter narrows the list. Days > 0 keeps the last N days; Database
// keeps the entries about that database; Kind one of activity.Kinds;
// Outcome "ok", or "failed" for every entry that did not go well (failed,
// denied, partial).
type AuditFilter struct {
	ActionPrefix string `json:"actionPrefix"`
	Outcome      string `json:"outcome"`
	Database     string `json:"database"`
	Kind         string `json:"kind"`
	Days         int    `json:"days"`
	Limit        int    `json:"limit"`
	Offset       int    `json:"offset"`
}

// ActivityEntry is one audit log entry as the Activity screen lists it:
// the sentence, and the raw entry one click away.
type ActivityEntry struct {
	Seq     int64             `json:"seq"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Outcome string            `json:"outcome"`
	Target  string            `json:"target,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	Message string            `json:"message,omitempty"`

	// Sentence is the entry in words (activity.Describe); it may hold
	// "{when}", the time SentenceTime (RFC 3339) written in the user's
	// locale.
	Sentence     string `json:"sentence"`
	SentenceTime string `json:"sentenceTime,omitempty"`
	Kind         string `json:"kind"`
	Database     string `json:"database,omitempty"`
}

// page is how many entries are read at a time while filtering by kind,
// database or a failed outcome (which the log's own filter does not know).
const page = 500

// List returns entries, newest first.
func (s *AuditService) List(f AuditFilter) ([]ActivityEntry, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
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
	for from := 0; len(out) < limit; from += page {
		af.Limit, af.Offset = page, from
		recs, err := e.Audit().List(ctx, af)
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
				out = append(out, entryOf(r, facts.of(r.Fields["backup_id"])))
			}
		}
		if len(recs) < page {
			break
		}
	}
	return out, nil
}

func entryOf(r audit.Record, b *activity.Backup) ActivityEntry {
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
	e        *engine.Engine
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
		f.storages = map[int64]string{}
		if sts, err := f.e.Storages(f.ctx); err == nil {
			for _, st := range sts {
				f.storages[st.ID] = st.Name
			}
		}
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

// Verify checks the whole chain: "intact up to N" or the first broken entry.
func (s *AuditService) Verify() (audit.Report, error) {
	e, err := s.core.engine()
	if err != nil {
		return audit.Report{}, err
	}
	return e.Audit().Verify(context.Background())
}
