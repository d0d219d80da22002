// Package audit is PgSafe's tamper-evident audit log: every action (settings
// changed, backups, restores, key export, …) is an entry in the settings
// database whose details are sealed and which carries an HMAC over its
// content and the previous entry's MAC. The newest (seq, MAC) is also kept
// outside the database, so deleting the newest entries is detected too. See
// docs/AUDIT.md.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/seal"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Outcomes.
const (
	OK     = "ok"
	Failed = "failed"
	Denied = "denied"
)

// Entry is one audited action as the caller gives it.
type Entry struct {
	Action  string            `json:"action"`  // e.g. "backup.finished"
	Outcome string            `json:"outcome"` // OK, Failed, Denied
	Target  string            `json:"target,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"` // never secret values
	Message string            `json:"message,omitempty"`
}

// Record is a stored entry, opened.
type Record struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Entry
}

// details is the sealed part of an entry.
type details struct {
	Actor   string            `json:"actor"`
	Target  string            `json:"target,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	Message string            `json:"message,omitempty"`
}

// Table and record version of the sealed details.
const (
	table         = "audit_log"
	recordVersion = 1
)

// Log is the audit log of one settings database.
type Log struct {
	st     *store.Store
	sealer *seal.Sealer
	macKey []byte
	cp     CheckpointStore
	actor  string
	now    func() time.Time
	// mu orders this process's appends with their checkpoint writes, so the
	// checkpoint never goes back to an older entry.
	mu sync.Mutex
}

// New opens the audit log in st, with MACs under a key derived from mk and
// the checkpoint kept in cp.
func New(st *store.Store, mk *keys.MasterKey, cp CheckpointStore) (*Log, error) {
	macKey, err := mk.Derive(keys.LabelAudit, nil, nil, 32)
	if err != nil {
		return nil, err
	}
	actor := "unknown"
	if u, err := user.Current(); err == nil {
		actor = u.Username
	}
	return &Log{st: st, sealer: st.Sealer(), macKey: macKey, cp: cp, actor: actor, now: time.Now}, nil
}

// genesis is the "previous MAC" of entry 1.
var genesis = make([]byte, sha256.Size)

// mac is HMAC-SHA256(key, u32 len ‖ "pgsafe/v1/audit-entry" ‖ u64 seq ‖ i64 at ‖
// u32 len ‖ action ‖ u32 len ‖ outcome ‖ u32 len ‖ details ‖ prev MAC).
func (l *Log) mac(seq, at int64, action, outcome string, sealed, prev []byte) []byte {
	h := hmac.New(sha256.New, l.macKey)
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	field([]byte("pgsafe/v1/audit-entry"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(seq)))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(at)))
	field([]byte(action))
	field([]byte(outcome))
	field(sealed)
	h.Write(prev)
	return h.Sum(nil)
}

func ad(seq int64) seal.AD {
	return seal.AD{Table: table, Row: strconv.FormatInt(seq, 10), SchemaVersion: recordVersion}
}

// Record appends an entry. Appends are serialized (one write transaction), so
// seq has no gaps; the checkpoint is updated after the commit, and a failure
// to update it is returned.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Action == "" {
		return errors.New("audit: an entry needs an action")
	}
	if e.Outcome == "" {
		e.Outcome = OK
	}
	plain, err := json.Marshal(details{Actor: l.actor, Target: e.Target, Fields: e.Fields, Message: e.Message})
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var cp Checkpoint
	err = l.st.WriteTx(ctx, func(tx *sql.Tx) error {
		seq, prev := int64(1), genesis
		var last int64
		var lastMAC []byte
		err := tx.QueryRowContext(ctx, "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&last, &lastMAC)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("audit: read the last entry: %w", err)
		default:
			seq, prev = last+1, lastMAC
		}
		at := l.now().UTC().UnixMilli()
		sealed, err := l.sealer.Seal(ad(seq), plain)
		if err != nil {
			return err
		}
		m := l.mac(seq, at, e.Action, e.Outcome, sealed, prev)
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit_log (seq, at, action, outcome, details, mac) VALUES (?, ?, ?, ?, ?, ?)",
			seq, at, e.Action, e.Outcome, sealed, m); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		cp = Checkpoint{Seq: seq, MAC: m}
		return nil
	})
	if err != nil {
		return err
	}
	if err := l.cp.Save(cp); err != nil {
		return fmt.Errorf("audit: entry %d written, but its checkpoint was not: %w", cp.Seq, err)
	}
	return nil
}

// KeysHook adapts the log to the keys package's audit hook (keys.Audit).
func (l *Log) KeysHook() keys.AuditFunc {
	return func(ctx context.Context, event string, fields map[string]string) error {
		return l.Record(ctx, Entry{Action: event, Outcome: OK, Fields: fields})
	}
}
