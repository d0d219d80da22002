package engine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
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
//
// A log found broken at an append (its newest entries or its checkpoint
// deleted or rolled back while the engine was open) refuses the entry. The
// break is then reported (logged at Error, kept in AuditStatus) and recorded
// in the log (audit.Log.Check), and the event is recorded after it: PgSafe
// goes on backing up, and every later verification reports the break.
func (e *Engine) record(ctx context.Context, ev Event) error {
	if ev.Outcome == "" {
		ev.Outcome = "ok"
	}
	err := e.audit.Record(ctx, ev)
	if errors.Is(err, audit.ErrBroken) && e.auditLog != nil {
		e.checkAudit(ctx)
		err = e.audit.Record(ctx, ev)
	}
	if err == nil {
		if db, ok := changesState(ev); ok {
			e.StatusChanged(ctx, db)
		}
	}
	return err
}

// changesState says whether an audited action can change a database's
// state (beyond the jobs, which say so when they finish), and whose: ""
// is every database's.
func changesState(ev Event) (db string, ok bool) {
	switch ev.Action {
	case "schedule.changed", "schedule.cleared", "database.created", "database.changed", "database.deleted", "database.checked":
		return ev.Target, true
	case "schedule.paused", "schedule.resumed", keys.EventKeyExported, keys.EventKeyImported, keys.EventKeyReplaced, "settings.accepted", EventForgotDamaged:
		return "", true
	}
	return "", false
}

// logAuditor records events in the tamper-evident audit log.
type logAuditor struct{ log *audit.Log }

func (l logAuditor) Record(ctx context.Context, ev Event) error {
	return l.log.Record(ctx, audit.Entry{Action: ev.Action, Outcome: ev.Outcome, Target: ev.Target, Fields: ev.Fields, Message: ev.Message})
}

// openAudit opens the audit log (checkpoint beside the settings database),
// verifies it (see checkAudit) and makes it the keys package's audit hook,
// so key exports and imports are recorded too.
func openAudit(ctx context.Context, e *Engine) (Auditor, error) {
	cp, err := audit.NewFileCheckpoint(filepath.Join(e.home, audit.CheckpointFile), e.key)
	if err != nil {
		return nil, err
	}
	l, err := audit.New(e.store, e.key, cp)
	if err != nil {
		return nil, err
	}
	l.SetWitnesses(e.auditWitnesses)
	e.auditLog = l
	e.audit = logAuditor{l}
	e.checkAudit(ctx)
	e.prevKeysHook = keys.Audit
	keys.Audit = func(ctx context.Context, event string, fields map[string]string) error {
		return e.record(ctx, Event{Action: event, Outcome: audit.OK, Fields: fields})
	}
	return e.audit, nil
}

// checkAudit verifies the audit log. A broken log does not stop the engine
// (backups that silently stop are worse than a damaged log): the break is
// logged at Error, kept for AuditStatus, and recorded in the log as an
// audit.broken entry, after which entries are appended again; the log is
// never reported intact again. A log that cannot be read is logged; appends
// then fail on their own.
func (e *Engine) checkAudit(ctx context.Context) {
	rep, err := e.auditLog.Check(ctx)
	e.reportAudit(rep, err)
}

// reportAudit logs a check's result if the log is broken or unreadable.
func (e *Engine) reportAudit(rep audit.Report, err error) {
	switch {
	case err != nil:
		e.log.Error("could not verify the audit log", "err", err)
	case !rep.Intact:
		e.log.Error("the audit log is broken: it was tampered with or damaged; the break is recorded in it and PgSafe goes on",
			"broken_at", rep.BrokenAt, "kind", rep.Kind, "detail", rep.Detail, "recorded_at", rep.RecordedAt)
	}
}

// AuditStatus is the result of the last verification of the audit log by
// this engine (at open, at a refused append, or Audit().Verify), and whether
// there was one.
func (e *Engine) AuditStatus() (audit.Report, bool) { return e.auditLog.Status() }

// witnessBackups is how many of the newest succeeded backups' audit
// witnesses are compared with the log at each verification.
const witnessBackups = 50

// witnessesSetting keeps the audit witnesses of the newest succeeded
// backups (JSON, newest first, at most witnessBackups), so that opening the
// engine does not read and decrypt whole manifests for them: with many
// tables a manifest is a megabyte, and reading fifty was most of the time
// of a command such as `pgsafe db list` (docs/BENCHMARKS.md). A settings
// database of an older PgSafe has no such setting: the manifests are read,
// as they were, until a backup writes it.
const witnessesSetting = "audit.witnesses"

// auditWitnesses are the kept witnesses (witnessesSetting), or those of the
// newest succeeded backups' manifests where none are kept yet.
func (e *Engine) auditWitnesses(ctx context.Context) ([]audit.Witness, error) {
	kept, err := e.keptWitnesses(ctx)
	if err != nil {
		return nil, err
	}
	var out []audit.Witness
	for _, w := range kept {
		if mac, err := hex.DecodeString(w.MAC); err == nil && w.Seq > 0 {
			out = append(out, audit.Witness{StoreID: w.Store, Seq: w.Seq, MAC: mac})
		}
	}
	return out, nil
}

// keptWitnesses reads witnessesSetting; without it (or unreadable), the
// witnesses of the newest succeeded backups' manifests.
func (e *Engine) keptWitnesses(ctx context.Context) ([]backup.AuditWitness, error) {
	if v, err := e.store.Setting(ctx, witnessesSetting); err == nil {
		var ws []backup.AuditWitness
		if json.Unmarshal([]byte(v), &ws) == nil {
			return ws, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return e.manifestWitnesses(ctx)
}

// manifestWitnesses reads the audit witnesses of the newest succeeded
// backups' manifests (sealed in the settings database).
func (e *Engine) manifestWitnesses(ctx context.Context) ([]backup.AuditWitness, error) {
	bs, err := e.store.Backups(ctx, store.BackupFilter{Status: store.StatusSucceeded, Limit: witnessBackups, Manifests: true})
	if err != nil {
		return nil, err
	}
	var out []backup.AuditWitness
	for _, b := range bs {
		var m struct {
			Audit *backup.AuditWitness `json:"audit"`
		}
		if len(b.Manifest) == 0 || json.Unmarshal(b.Manifest, &m) != nil || m.Audit == nil {
			continue
		}
		out = append(out, *m.Audit)
	}
	return out, nil
}

// keepWitness adds a succeeded backup's witness to witnessesSetting on its
// own (a backup's end does it in the same transaction as its record:
// witnessChange). A failure is logged: the witness is still in the backup's
// manifest, in its storages.
func (e *Engine) keepWitness(ctx context.Context, w *backup.AuditWitness) {
	c, ok := e.witnessChange(ctx, w)
	if !ok {
		return
	}
	if _, err := e.store.UpdateSetting(context.WithoutCancel(ctx), c.Key, c.Fn); err != nil {
		e.log.Warn("keep the backup's audit witness", "err", err)
	}
}

// witnessChange is the change of witnessesSetting that adds w, newest
// first, at most witnessBackups (first filling the list from the manifests,
// for a settings database of an older PgSafe). ok is false without a
// witness.
func (e *Engine) witnessChange(ctx context.Context, w *backup.AuditWitness) (_ store.SettingChange, ok bool) {
	if w == nil {
		return store.SettingChange{}, false
	}
	var seed []backup.AuditWitness
	if _, err := e.store.Setting(ctx, witnessesSetting); errors.Is(err, store.ErrNotFound) {
		seed, _ = e.manifestWitnesses(ctx) // the new backup's own is among them: added once below
	}
	return store.SettingChange{Key: witnessesSetting, Fn: func(old string, found bool) (string, error) {
		ws := seed
		if found && json.Unmarshal([]byte(old), &ws) != nil {
			ws = nil
		}
		ws = slices.DeleteFunc(slices.Clone(ws), func(k backup.AuditWitness) bool { return k == *w })
		ws = append([]backup.AuditWitness{*w}, ws...)
		if len(ws) > witnessBackups {
			ws = ws[:witnessBackups]
		}
		data, err := json.Marshal(ws)
		return string(data), err
	}}, true
}

// checkStorageWitnesses compares the audit witnesses of manifests read from
// a storage with the log: they are kept off this machine, so they show a log
// rolled back together with its checkpoint and the history (an older copy of
// the whole settings directory). A break is handled as at open.
func (e *Engine) checkStorageWitnesses(ctx context.Context, found []StoredBackup) {
	var ws []audit.Witness
	for _, sb := range found {
		if sb.Manifest == nil || sb.Manifest.Audit == nil {
			continue
		}
		if mac, err := hex.DecodeString(sb.Manifest.Audit.MAC); err == nil && sb.Manifest.Audit.Seq > 0 {
			ws = append(ws, audit.Witness{StoreID: sb.Manifest.Audit.Store, Seq: sb.Manifest.Audit.Seq, MAC: mac})
		}
	}
	if len(ws) == 0 || e.auditLog == nil {
		return
	}
	rep, err := e.auditLog.CheckWith(ctx, ws)
	e.reportAudit(rep, err)
}

// auditWitness is the newest audit entry, for a new backup's manifest; nil
// if it cannot be read (the backup goes on without it).
func (e *Engine) auditWitness(ctx context.Context) *backup.AuditWitness {
	w, err := e.auditLog.Head(ctx)
	if err != nil || w.Seq == 0 {
		e.log.Warn("no audit witness for the backup's manifest", "err", err)
		return nil
	}
	return &backup.AuditWitness{Store: w.StoreID, Seq: w.Seq, MAC: hex.EncodeToString(w.MAC)}
}

// Audit is the audit log, for the Activity screen and `pgsafe audit`.
func (e *Engine) Audit() *audit.Log { return e.auditLog }

// RecordEvent records an event from a face (app start and stop).
func (e *Engine) RecordEvent(ctx context.Context, ev Event) error { return e.record(ctx, ev) }
