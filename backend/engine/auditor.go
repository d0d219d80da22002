package engine

import (
	"context"
	"log/slog"
)

// Event is one audited action.
type Event struct {
	Action  string            // e.g. "database.created"
	Outcome string            // "ok", "failed", "denied"
	Target  string            // what it acted on, e.g. a database's name
	Fields  map[string]string // names of changed fields, ids; never secret values
	Message string
}

// Auditor records events in the audit log.
type Auditor interface {
	Record(ctx context.Context, ev Event) error
}

// record audits an event; an action whose audit fails is reported as failed
// by the caller.
func (e *Engine) record(ctx context.Context, ev Event) error {
	if ev.Outcome == "" {
		ev.Outcome = "ok"
	}
	return e.audit.Record(ctx, ev)
}

// logAuditor writes events to slog: the fallback before the audit log opens.
type logAuditor struct{ log *slog.Logger }

func (l logAuditor) Record(ctx context.Context, ev Event) error {
	l.log.InfoContext(ctx, "audit", "action", ev.Action, "outcome", ev.Outcome, "fields", ev.Fields)
	return nil
}

func openAudit(_ context.Context, e *Engine) (Auditor, error) { return logAuditor{e.log}, nil }
