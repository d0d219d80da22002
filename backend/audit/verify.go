package audit

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

// Break kinds: how the chain is broken at an entry.
const (
	BreakMAC        = "mac_mismatch"       // the entry or the one before it was changed
	BreakGap        = "gap"                // entries are missing before this one
	BreakDetails    = "details"            // the sealed details do not open (edited, moved)
	BreakTail       = "missing_tail"       // entries from this one on were deleted (or all of them)
	BreakCheckpoint = "checkpoint_invalid" // the checkpoint file was edited, forged or removed
	BreakBehind     = "checkpoint_behind"  // the checkpoint file was replaced by an older copy
	BreakStore      = "store_mismatch"     // the log, its checkpoint and the settings database name different stores
	BreakGenesis    = "no_genesis"         // the log was bound to a store but has no genesis entry
	BreakWitness    = "witness_mismatch"   // a backup's manifest names an entry the log does not have
)

// Break is one place where the log is broken.
type Break struct {
	At     int64  `json:"at"` // the first bad entry's seq
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

func (b Break) report() Report {
	return Report{GoodTo: b.At - 1, BrokenAt: b.At, Kind: b.Kind, Detail: b.Detail}
}

// Report is the result of Verify.
type Report struct {
	Intact   bool   `json:"intact"`
	Entries  int64  `json:"entries"`            // entries checked
	GoodTo   int64  `json:"goodTo"`             // the chain is intact up to this seq
	BrokenAt int64  `json:"brokenAt,omitempty"` // the first bad entry's seq
	Kind     string `json:"kind,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// RecordedAt is the audit.broken entry that records the first break (0:
	// not recorded yet). A recorded break stays reported: the log is never
	// intact again.
	RecordedAt int64 `json:"recordedAt,omitempty"`

	unrecorded []Break // breaks that no audit.broken entry records yet
}

func (r Report) String() string {
	if r.Intact {
		return fmt.Sprintf("intact: %d entries", r.Entries)
	}
	s := fmt.Sprintf("broken at entry %d (%s): %s; intact up to entry %d", r.BrokenAt, r.Kind, r.Detail, r.GoodTo)
	if r.RecordedAt > 0 {
		s += fmt.Sprintf(" (found and recorded at entry %d)", r.RecordedAt)
	}
	return s
}

// Verify walks every entry in order and checks the chain, the details, the
// genesis entry, the checkpoint and the witnesses. A break that no
// audit.broken entry records yet is then recorded as one (so the log can go
// on, and the break stays reported by every later Verify), and the
// verification itself is recorded (audit.verified), all while holding the
// checkpoint's lock. The report is about what was there before.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	return l.verifyAndRecord(ctx, &Entry{Action: "audit.verified"}, nil)
}

// Check is Verify without the audit.verified entry: it records only the
// breaks not recorded yet. The engine runs it when it opens.
func (l *Log) Check(ctx context.Context) (Report, error) {
	return l.verifyAndRecord(ctx, nil, nil)
}

// CheckWith is Check with more witnesses than SetWitnesses gives, such as
// those of the manifests read from a storage.
func (l *Log) CheckWith(ctx context.Context, extra []Witness) (Report, error) {
	return l.verifyAndRecord(ctx, nil, extra)
}

// Status is the report of the last Verify or Check of this Log, and whether
// there was one.
func (l *Log) Status() (Report, bool) {
	l.statusMu.Lock()
	defer l.statusMu.Unlock()
	if l.status == nil {
		return Report{}, false
	}
	return *l.status, true
}

func (l *Log) verifyAndRecord(ctx context.Context, then *Entry, extra []Witness) (Report, error) {
	ws := slices.Clone(extra)
	if l.witnesses != nil {
		kept, err := l.witnesses(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("audit: read the witnesses: %w", err)
		}
		ws = append(ws, kept...)
	}
	unlock, err := l.lock(ctx)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	rep, w, err := l.walk(ctx, ws)
	if err != nil {
		return rep, err
	}
	// A log never started (no entries, checkpoint or store ID) is started
	// here: its genesis entry is written with whatever is recorded below.
	start := w.last == 0 && rep.Intact
	if start {
		rep.Entries, rep.GoodTo = 1, 1
	}
	var ents []Entry
	for _, b := range rep.unrecorded {
		ents = append(ents, Entry{Action: ActionBroken, Outcome: Failed, Message: b.Detail,
			Fields: map[string]string{"broken_at": strconv.FormatInt(b.At, 10), "kind": b.Kind}})
	}
	if then != nil {
		e := *then
		e.Outcome, e.Message = OK, rep.String()
		if !rep.Intact {
			e.Outcome = Failed
		}
		ents = append(ents, e)
	}
	if len(ents) > 0 || start {
		err = l.appendTx(ctx, func(tx *sql.Tx) (Checkpoint, error) {
			h, err := readHead(ctx, tx)
			if err != nil {
				return Checkpoint{}, err
			}
			if h.seq != w.last {
				return Checkpoint{}, fmt.Errorf("audit: the log changed while it was verified (entry %d, now %d): another program writes to it", w.last, h.seq)
			}
			// The store ID: the settings database's, else the genesis
			// entry's, else the checkpoint's, else a new one.
			id := h.storeID
			for _, c := range []string{w.genesisStore, w.cp.StoreID} {
				if id == "" {
					id = c
				}
			}
			if id == "" {
				if id, err = newStoreID(); err != nil {
					return Checkpoint{}, err
				}
			}
			if h.storeID == "" {
				if err := store.SetStoreID(ctx, tx, id); err != nil {
					return Checkpoint{}, fmt.Errorf("audit: %w", err)
				}
				h.storeID = id
			}
			if w.genesisSeq == 0 {
				ents = append([]Entry{genesisEntry(id, h.seq)}, ents...)
			}
			first := h.seq + 1
			if w.genesisSeq == 0 {
				first++
			}
			for i, b := range rep.unrecorded { // the reported break, if recorded now
				if rep.RecordedAt == 0 && b.At == rep.BrokenAt && b.Kind == rep.Kind {
					rep.RecordedAt = first + int64(i)
				}
			}
			return l.insert(ctx, tx, h, ents)
		})
		if err != nil {
			return rep, err
		}
	}
	rep.unrecorded = nil
	l.statusMu.Lock()
	l.status = &rep
	l.statusMu.Unlock()
	return rep, nil
}

// verify walks the log under the lock and records nothing.
func (l *Log) verify(ctx context.Context) (Report, error) {
	var ws []Witness
	if l.witnesses != nil {
		var err error
		if ws, err = l.witnesses(ctx); err != nil {
			return Report{}, fmt.Errorf("audit: read the witnesses: %w", err)
		}
	}
	unlock, err := l.lock(ctx)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	rep, _, err := l.walk(ctx, ws)
	return rep, err
}

// walked is what a walk saw besides its report.
type walked struct {
	last         int64 // the newest entry's seq
	genesisSeq   int64 // the first authentic genesis entry, 0: none
	genesisStore string
	cp           Checkpoint
}

// maxBreaks bounds the breaks a walk collects (a reordered log breaks at
// every entry).
const maxBreaks = 1000

// walk checks every entry (going on past a break, so that later breaks and
// audit.broken entries are seen too), the genesis entry, the checkpoint
// and the witnesses ws. The caller holds the lock.
func (l *Log) walk(ctx context.Context, ws []Witness) (Report, walked, error) {
	var w walked
	cp, haveCP, cpErr := l.cp.Load()
	w.cp = cp
	tx, err := l.st.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Report{}, w, fmt.Errorf("audit: read the log: %w", err)
	}
	defer tx.Rollback()
	storeID, err := store.StoreID(ctx, tx)
	if err != nil {
		return Report{}, w, fmt.Errorf("audit: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT seq, at, action, outcome, details, mac FROM audit_log ORDER BY seq")
	if err != nil {
		return Report{}, w, fmt.Errorf("audit: read the log: %w", err)
	}
	defer rows.Close()
	witness := map[int64][]byte{}
	ws = slices.DeleteFunc(slices.Clone(ws), func(x Witness) bool { return storeID == "" || x.StoreID != storeID })
	for _, x := range ws {
		witness[x.Seq] = x.MAC
	}
	var (
		rep      Report
		live     []Break
		recorded = map[Break]Break{} // by At and Kind: the recorded break, with the seq of its entry as At
	)
	broken := func(b Break) {
		if len(live) < maxBreaks {
			live = append(live, b)
		}
	}
	prev, want := zeroMAC, int64(1)
	var lastMAC []byte
	h := hmac.New(sha256.New, l.macKey)
	for rows.Next() {
		var seq, at int64
		var action, outcome string
		var sealed, mac []byte
		if err := rows.Scan(&seq, &at, &action, &outcome, &sealed, &mac); err != nil {
			return rep, w, err
		}
		rep.Entries++
		authentic := true
		switch {
		case seq != want:
			authentic = false // its MAC covers an entry that is gone
			broken(Break{At: seq, Kind: BreakGap, Detail: fmt.Sprintf("entry %d follows entry %d: entries %d to %d were deleted", seq, want-1, want, seq-1)})
		case !hmac.Equal(mac, macWith(h, seq, at, action, outcome, sealed, prev)):
			authentic = false
			broken(Break{At: seq, Kind: BreakMAC, Detail: fmt.Sprintf("entry %d (%s at %s) was changed, or the entries were reordered", seq, action, time.UnixMilli(at).UTC().Format(time.RFC3339))})
		}
		// The MAC covers the sealed details, so an authentic entry's details
		// open (under the same master key): they are opened only where they
		// are read, in the log's own entries.
		var plain []byte
		if action == ActionGenesis || action == ActionBroken {
			var err error
			plain, err = l.sealer.Open(ad(seq), sealed)
			if err != nil && authentic {
				authentic = false
				broken(Break{At: seq, Kind: BreakDetails, Detail: fmt.Sprintf("the details of entry %d do not open", seq)})
			}
		}
		if wm, ok := witness[seq]; ok && !hmac.Equal(wm, mac) {
			broken(Break{At: seq, Kind: BreakWitness, Detail: fmt.Sprintf("a backup's manifest names another entry %d than the log's: the log was rewritten or rolled back", seq)})
		}
		if authentic && (action == ActionGenesis || action == ActionBroken) {
			var d details
			if err := json.Unmarshal(plain, &d); err == nil {
				switch {
				case action == ActionGenesis && w.genesisSeq == 0:
					w.genesisSeq, w.genesisStore = seq, d.Fields["store_id"]
				case action == ActionBroken:
					if n, err := strconv.ParseInt(d.Fields["broken_at"], 10, 64); err == nil {
						recorded[Break{At: n, Kind: d.Fields["kind"]}] = Break{At: seq, Detail: d.Message}
					}
				}
			}
		}
		prev, want, w.last, lastMAC = mac, seq+1, seq, mac
	}
	if err := rows.Err(); err != nil {
		return rep, w, err
	}
	for _, x := range ws {
		if x.Seq > w.last {
			broken(Break{At: x.Seq, Kind: BreakWitness, Detail: fmt.Sprintf("a backup's manifest names entry %d, but the log ends at entry %d: the newest entries were deleted or the log was rolled back", x.Seq, w.last)})
		}
	}
	switch {
	case w.last > 0 && w.genesisSeq == 0 && (cp.StoreID != "" || storeID != ""):
		broken(Break{At: 1, Kind: BreakGenesis, Detail: "the log has no genesis entry, but it was bound to a settings database"})
	case w.genesisSeq > 0 && storeID != "" && w.genesisStore != storeID:
		broken(Break{At: w.genesisSeq, Kind: BreakStore, Detail: fmt.Sprintf("the log's genesis entry names settings database %s, but this settings database is %s", w.genesisStore, storeID)})
	}
	if b := checkHead(cp, haveCP, cpErr, head{seq: w.last, mac: lastMAC, storeID: storeID}); b != nil {
		broken(*b)
	}

	// The report names the first break, live or recorded (on a tie, the
	// first found).
	var first *Break
	firstAt := int64(0)
	consider := func(b Break, recAt int64) {
		if first == nil || b.At < first.At {
			first, firstAt = &b, recAt
		}
	}
	for _, b := range live {
		key := Break{At: b.At, Kind: b.Kind}
		if r, ok := recorded[key]; ok {
			consider(b, r.At)
			continue
		}
		rep.unrecorded = append(rep.unrecorded, b)
		consider(b, 0)
	}
	keys := slices.SortedFunc(maps.Keys(recorded), func(a, b Break) int { return cmp.Compare(recorded[a].At, recorded[b].At) })
	for _, key := range keys {
		r := recorded[key]
		consider(Break{At: key.At, Kind: key.Kind, Detail: r.Detail}, r.At)
	}
	if first == nil {
		rep.Intact, rep.GoodTo = true, w.last
		return rep, w, nil
	}
	rep.GoodTo, rep.BrokenAt, rep.Kind, rep.Detail, rep.RecordedAt = first.At-1, first.At, first.Kind, first.Detail, firstAt
	return rep, w, nil
}

// Filter narrows List; zero fields match everything.
type Filter struct {
	ActionPrefix string    `json:"actionPrefix"`
	Outcome      string    `json:"outcome"`
	From, To     time.Time `json:"-"`
	Limit        int       `json:"limit"` // newest first; 0: all
	Offset       int       `json:"offset"`
}

// List returns entries, newest first, with their details opened (an entry
// whose details do not open is listed with a note; Verify locates it).
func (l *Log) List(ctx context.Context, f Filter) ([]Record, error) {
	q := "SELECT seq, at, action, outcome, details FROM audit_log WHERE 1=1"
	var args []any
	if f.ActionPrefix != "" {
		q += " AND substr(action, 1, ?) = ?"
		args = append(args, len(f.ActionPrefix), f.ActionPrefix)
	}
	if f.Outcome != "" {
		q += " AND outcome = ?"
		args = append(args, f.Outcome)
	}
	if !f.From.IsZero() {
		q += " AND at >= ?"
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += " AND at < ?"
		args = append(args, f.To.UnixMilli())
	}
	q += " ORDER BY seq DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(0, f.Offset))
	}
	rows, err := l.st.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var at int64
		var sealed []byte
		if err := rows.Scan(&r.Seq, &at, &r.Action, &r.Outcome, &sealed); err != nil {
			return nil, err
		}
		r.At = time.UnixMilli(at).UTC()
		var d details
		if plain, err := l.sealer.Open(ad(r.Seq), sealed); err != nil {
			r.Message = "(the details of this entry do not open: run Verify)"
		} else if err := json.Unmarshal(plain, &d); err == nil {
			r.Actor, r.Target, r.Fields, r.Message = d.Actor, d.Target, d.Fields, d.Message
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
