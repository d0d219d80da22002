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
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
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
	// witnesses, if set, returns the witnesses kept outside the log.
	witnesses func(ctx context.Context) ([]Witness, error)
	// mu orders this process's appends (the checkpoint's file lock is per
	// open file, and each append opens it anew).
	mu sync.Mutex

	statusMu sync.Mutex
	status   *Report // the last Verify or Check
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

// zeroMAC is the "previous MAC" of entry 1.
var zeroMAC = make([]byte, sha256.Size)

// mac is HMAC-SHA256(key, u32 len ‖ "pgsafe/v1/audit-entry" ‖ u64 seq ‖ i64 at ‖
// u32 len ‖ action ‖ u32 len ‖ outcome ‖ u32 len ‖ details ‖ prev MAC).
func (l *Log) mac(seq, at int64, action, outcome string, sealed, prev []byte) []byte {
	return macWith(hmac.New(sha256.New, l.macKey), seq, at, action, outcome, sealed, prev)
}

// macWith is mac with h, an HMAC-SHA256 under the log's MAC key, reused
// (Reset) across entries by a walk.
func macWith(h hash.Hash, seq, at int64, action, outcome string, sealed, prev []byte) []byte {
	h.Reset()
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

// Actions of the log's own entries.
const (
	// ActionGenesis is a log's first entry (or, in a log begun before genesis
	// entries existed, the entry that binds it): it names the store ID of the
	// settings database the log belongs to (field store_id).
	ActionGenesis = "audit.genesis"
	// ActionBroken records a break found by Verify or Check (fields broken_at
	// and kind, the detail as message), so that entries can be appended
	// after it while the break stays reported.
	ActionBroken = "audit.broken"
)

// ErrBroken: the audit log is broken in a way an append would hide (its
// newest entries or its checkpoint were deleted, replaced or rolled back);
// nothing was recorded. Verify or Check records the break, after which
// appends go on. Returned as a *BrokenError.
var ErrBroken = errors.New("the audit log is broken")

// BrokenError is ErrBroken with what is broken.
type BrokenError struct{ Report Report }

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit: nothing was recorded: %v (%s). Verifying the audit log records the break, and entries are added after it again", ErrBroken, e.Report)
}

func (e *BrokenError) Unwrap() error { return ErrBroken }

// head is the newest entry (seq 0: the log is empty) and the settings
// database's store ID ("" if none yet), read in one transaction.
type head struct {
	seq     int64
	mac     []byte
	storeID string
}

func readHead(ctx context.Context, tx *sql.Tx) (head, error) {
	var h head
	err := tx.QueryRowContext(ctx, "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&h.seq, &h.mac)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("audit: read the last entry: %w", err)
	}
	if h.storeID, err = store.StoreID(ctx, tx); err != nil {
		return h, fmt.Errorf("audit: %w", err)
	}
	return h, nil
}

// checkHead compares the newest entry with the checkpoint: the checks every
// append makes, so that an append never hides deleted or replaced entries or
// a checkpoint that was removed or rolled back. nil: they agree.
func checkHead(cp Checkpoint, haveCP bool, cpErr error, h head) *Break {
	switch {
	case cpErr != nil:
		return &Break{At: max(h.seq, 1), Kind: BreakCheckpoint, Detail: cpErr.Error()}
	case h.seq == 0 && !haveCP && h.storeID == "":
		return nil // a new log
	case h.seq == 0:
		why := "the settings database's store ID shows it was started"
		if haveCP {
			why = fmt.Sprintf("the checkpoint shows entry %d was written", cp.Seq)
		}
		return &Break{At: 1, Kind: BreakTail, Detail: "the log holds no entries, but " + why + ": every entry was deleted"}
	case !haveCP:
		return &Break{At: h.seq, Kind: BreakCheckpoint, Detail: "the audit checkpoint file is missing"}
	case cp.Seq > h.seq:
		return &Break{At: h.seq + 1, Kind: BreakTail, Detail: fmt.Sprintf("the log ends at entry %d, but entry %d was written: the newest entries were deleted", h.seq, cp.Seq)}
	case cp.Seq == h.seq && !hmac.Equal(cp.MAC, h.mac):
		return &Break{At: h.seq, Kind: BreakMAC, Detail: fmt.Sprintf("entry %d is not the entry %d that was written last", h.seq, cp.Seq)}
	case cp.Seq < h.seq:
		return &Break{At: cp.Seq + 1, Kind: BreakBehind, Detail: fmt.Sprintf("the checkpoint names entry %d, but the log goes on to entry %d: the checkpoint file was replaced by an older copy (or PgSafe stopped between writing an entry and its checkpoint)", cp.Seq, h.seq)}
	case cp.StoreID == "" && h.storeID != "":
		return &Break{At: h.seq, Kind: BreakBehind, Detail: "the checkpoint file is older than the log's genesis entry: it was replaced by an older copy"}
	case cp.StoreID != "" && cp.StoreID != h.storeID:
		return &Break{At: h.seq, Kind: BreakStore, Detail: fmt.Sprintf("the checkpoint belongs to settings database %s, but this settings database is %s", cp.StoreID, orNone(h.storeID))}
	}
	return nil
}

func orNone(id string) string {
	if id == "" {
		return "unnamed (its store ID was removed)"
	}
	return id
}

// newStoreID draws a random store ID: 16 random bytes, hex.
func newStoreID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("audit: draw a store ID: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// genesisEntry binds the log to storeID; after > 0: the log began before
// genesis entries existed, and entries 1 to after precede this one.
func genesisEntry(storeID string, after int64) Entry {
	e := Entry{Action: ActionGenesis, Outcome: OK, Fields: map[string]string{"store_id": storeID},
		Message: "the audit log of settings database " + storeID + " starts here"}
	if after > 0 {
		e.Fields["after_entry"] = strconv.FormatInt(after, 10)
		e.Message = fmt.Sprintf("the audit log is bound to settings database %s; entries 1 to %d were written before genesis entries existed", storeID, after)
	}
	return e
}

// Record appends an entry. It holds the checkpoint's lock (across processes)
// while it compares the newest entry with the checkpoint, appends in one
// write transaction (so seq has no gaps) and writes the new checkpoint. If
// they do not agree it appends nothing and returns a *BrokenError. The first
// append to a log writes its genesis entry first.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Action == "" {
		return errors.New("audit: an entry needs an action")
	}
	unlock, err := l.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cp, haveCP, cpErr := l.cp.Load()
	return l.appendTx(ctx, func(tx *sql.Tx) (Checkpoint, error) {
		h, err := readHead(ctx, tx)
		if err != nil {
			return Checkpoint{}, err
		}
		if b := checkHead(cp, haveCP, cpErr, h); b != nil {
			return Checkpoint{}, &BrokenError{Report: b.report()}
		}
		var ents []Entry
		if h.storeID == "" { // a new log, or one begun before genesis entries
			id, err := newStoreID()
			if err != nil {
				return Checkpoint{}, err
			}
			if err := store.SetStoreID(ctx, tx, id); err != nil {
				return Checkpoint{}, fmt.Errorf("audit: %w", err)
			}
			h.storeID = id
			ents = append(ents, genesisEntry(id, h.seq))
		}
		return l.insert(ctx, tx, h, append(ents, e))
	})
}

// appendTx runs fn, which appends entries and returns the new checkpoint, in
// a write transaction. The checkpoint is prepared (written and synced aside)
// before the transaction commits and put in place after, so that a process
// that dies in between leaves the smallest window in which the log is ahead
// of its checkpoint. The caller holds the lock.
func (l *Log) appendTx(ctx context.Context, fn func(tx *sql.Tx) (Checkpoint, error)) error {
	var commit func() error
	var discard func()
	err := l.st.WriteTx(ctx, func(tx *sql.Tx) error {
		next, err := fn(tx)
		if err != nil {
			return err
		}
		if commit, discard, err = l.cp.Prepare(next); err != nil {
			return fmt.Errorf("audit: nothing was recorded: %w", err)
		}
		return nil
	})
	if err != nil {
		if discard != nil {
			discard()
		}
		return err
	}
	if err := commit(); err != nil {
		return fmt.Errorf("audit: an entry was written, but its checkpoint was not: %w", err)
	}
	return nil
}

// lock serializes this process's appends, then takes the checkpoint's lock
// across processes.
func (l *Log) lock(ctx context.Context) (func(), error) {
	l.mu.Lock()
	unlock, err := l.cp.Lock(ctx)
	if err != nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("audit: %w", err)
	}
	return func() { unlock(); l.mu.Unlock() }, nil
}

// insert appends entries after h in tx and returns the checkpoint of the
// last one.
func (l *Log) insert(ctx context.Context, tx *sql.Tx, h head, entries []Entry) (Checkpoint, error) {
	seq, prev := h.seq, h.mac
	if seq == 0 {
		prev = zeroMAC
	}
	for _, e := range entries {
		if e.Outcome == "" {
			e.Outcome = OK
		}
		plain, err := json.Marshal(details{Actor: l.actor, Target: e.Target, Fields: e.Fields, Message: e.Message})
		if err != nil {
			return Checkpoint{}, err
		}
		seq++
		at := l.now().UTC().UnixMilli()
		sealed, err := l.sealer.Seal(ad(seq), plain)
		if err != nil {
			return Checkpoint{}, err
		}
		m := l.mac(seq, at, e.Action, e.Outcome, sealed, prev)
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit_log (seq, at, action, outcome, details, mac) VALUES (?, ?, ?, ?, ?, ?)",
			seq, at, e.Action, e.Outcome, sealed, m); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: append: %w", err)
		}
		prev = m
	}
	return Checkpoint{Seq: seq, MAC: prev, StoreID: h.storeID}, nil
}

// Witness is an entry's sequence number and MAC kept outside the settings
// database, with the store ID of the log: each backup's manifest carries the
// newest entry when the backup was made (docs/AUDIT.md). Only witnesses of
// this settings database's log are compared with it.
type Witness struct {
	StoreID string
	Seq     int64
	MAC     []byte
}

// Head is the newest entry, to be kept as a witness; zero if the log is
// empty or not bound to a store ID yet.
func (l *Log) Head(ctx context.Context) (Witness, error) {
	tx, err := l.st.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Witness{}, fmt.Errorf("audit: read the last entry: %w", err)
	}
	defer tx.Rollback()
	h, err := readHead(ctx, tx)
	if err != nil || h.seq == 0 || h.storeID == "" {
		return Witness{}, err
	}
	return Witness{StoreID: h.storeID, Seq: h.seq, MAC: h.mac}, nil
}

// SetWitnesses gives Verify and Check the witnesses kept so far (the
// engine reads them from the backups' manifests). Call it before the log is
// used.
func (l *Log) SetWitnesses(fn func(ctx context.Context) ([]Witness, error)) { l.witnesses = fn }

// KeysHook adapts the log to the keys package's audit hook (keys.Audit).
func (l *Log) KeysHook() keys.AuditFunc {
	return func(ctx context.Context, event string, fields map[string]string) error {
		return l.Record(ctx, Entry{Action: event, Outcome: OK, Fields: fields})
	}
}
