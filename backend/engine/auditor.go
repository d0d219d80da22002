package engine

import (
	"context"
	"path/filepath"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/keys"
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

// logAuditor records events in the tamper-evident audit log.
type logAuditor struct{ log *audit.Log }

func (l logAuditor) Record(ctx context.Context, ev Event) error {
	return l.log.Record(ctx, audit.Entry{Action: ev.Action, Outcome: ev.Outcome, Target: ev.Target, Fields: ev.Fields, Message: ev.Message})
}

// openAudit opens the audit log (checkpoint beside the settings database) and
// makes it the keys package's audit hook, so key exports and imports are
// recorded too.
func openAudit(_ context.Context, e *Engine) (Auditor, error) {
	cp, err := audit.NewFileCheckpoint(filepath.Join(e.home, audit.CheckpointFile), e.key)
	if err != nil {
		return nil, err
	}
	l, err := audit.New(e.store, e.key, cp)
	if err != nil {
		return nil, err
	}
	e.auditLog = l
	e.prevKeysHook = keys.Audit
	keys.Audit = l.KeysHook()
	return logAuditor{l}, nil
}

// Audit is the audit log, for the Activity screen and `pgsafe audit`.
func (e *Engine) Audit() *audit.Log { return e.auditLog }

// RecordEvent records an event from a face (app start and stop).
func (e *Engine) RecordEvent(ctx context.Context, ev Event) error { return e.record(ctx, ev) }
