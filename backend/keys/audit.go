package keys

import (
	"context"
	"log/slog"
)

// Audited key events, passed to Audit. Their fields never hold a secret: key IDs,
// paths and sources only.
const (
	EventKeyCreated       = "key.created"        // fields: key_id, source
	EventKeyExported      = "key.exported"       // fields: key_id, path (recovery kit written)
	EventKeyImported      = "key.imported"       // fields: key_id, source, path (kit it came from)
	EventKeyReplaced      = "key.replaced"       // fields: key_id, old_key_id, source, path
	EventKeySourceChanged = "key.source_changed" // fields: key_id, source, path (protected key file chosen)
)

// AuditFunc records one security-relevant key event. If it returns an error the
// action is not carried out (or, for a key already written, the error is
// returned to the caller): an action that cannot be audited does not happen.
type AuditFunc func(ctx context.Context, event string, fields map[string]string) error

// Audit is called by this package for every event above, before the action
// becomes visible where possible. The audit log (a later issue) replaces it at
// startup, before any key operation; until then events go to slog.Default at Info.
var Audit AuditFunc = func(ctx context.Context, event string, fields map[string]string) error {
	args := make([]any, 0, 2*len(fields)+2)
	args = append(args, "event", event)
	for k, v := range fields {
		args = append(args, k, v)
	}
	slog.Default().InfoContext(ctx, "key audit event", args...)
	return nil
}

func audit(ctx context.Context, event string, fields map[string]string) error {
	if Audit == nil {
		return nil
	}
	return Audit(ctx, event, fields)
}
