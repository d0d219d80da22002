package audit

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"time"
)

// Break kinds: how the chain is broken at an entry.
const (
	BreakMAC        = "mac_mismatch"       // the entry or the one before it was changed
	BreakGap        = "gap"                // entries are missing before this one
	BreakDetails    = "details"            // the sealed details do not open (edited, moved)
	BreakTail       = "missing_tail"       // entries after this one were deleted
	BreakCheckpoint = "checkpoint_invalid" // the checkpoint file was edited or forged
)

// Report is the result of Verify.
type Report struct {
	Intact   bool   `json:"intact"`
	Entries  int64  `json:"entries"`            // entries checked
	GoodTo   int64  `json:"goodTo"`             // the chain is intact up to this seq
	BrokenAt int64  `json:"brokenAt,omitempty"` // the first bad entry's seq
	Kind     string `json:"kind,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

func (r Report) String() string {
	if r.Intact {
		return fmt.Sprintf("intact: %d entries", r.Entries)
	}
	return fmt.Sprintf("broken at entry %d (%s): %s; intact up to entry %d", r.BrokenAt, r.Kind, r.Detail, r.GoodTo)
}

// Verify walks every entry in order and checks the chain, the details and
// the checkpoint. It records the verification itself as an entry (after
// checking, so the report is about what was there before).
func (l *Log) Verify(ctx context.Context) (Report, error) {
	rep, err := l.verify(ctx)
	if err != nil {
		return rep, err
	}
	outcome := OK
	if !rep.Intact {
		outcome = Failed
	}
	if err := l.Record(ctx, Entry{Action: "audit.verified", Outcome: outcome, Message: rep.String()}); err != nil {
		return rep, err
	}
	return rep, nil
}

func (l *Log) verify(ctx context.Context) (Report, error) {
	cp, haveCP, cpErr := l.cp.Load()
	rows, err := l.st.DB().QueryContext(ctx, "SELECT seq, at, action, outcome, details, mac FROM audit_log ORDER BY seq")
	if err != nil {
		return Report{}, fmt.Errorf("audit: read the log: %w", err)
	}
	defer rows.Close()
	rep := Report{}
	prev, want := genesis, int64(1)
	broken := func(seq int64, kind, detail string) (Report, error) {
		rep.BrokenAt, rep.Kind, rep.Detail = seq, kind, detail
		return rep, nil
	}
	for rows.Next() {
		var seq, at int64
		var action, outcome string
		var sealed, mac []byte
		if err := rows.Scan(&seq, &at, &action, &outcome, &sealed, &mac); err != nil {
			return rep, err
		}
		rep.Entries++
		if seq != want {
			return broken(seq, BreakGap, fmt.Sprintf("entry %d follows entry %d: entries %d to %d were deleted", seq, want-1, want, seq-1))
		}
		if !hmac.Equal(mac, l.mac(seq, at, action, outcome, sealed, prev)) {
			return broken(seq, BreakMAC, fmt.Sprintf("entry %d (%s at %s) was changed, or the entries were reordered", seq, action, time.UnixMilli(at).UTC().Format(time.RFC3339)))
		}
		if _, err := l.sealer.Open(ad(seq), sealed); err != nil {
			return broken(seq, BreakDetails, fmt.Sprintf("the details of entry %d do not open", seq))
		}
		rep.GoodTo, prev, want = seq, mac, seq+1
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	if cpErr != nil {
		return broken(rep.GoodTo, BreakCheckpoint, cpErr.Error())
	}
	if haveCP {
		switch {
		case cp.Seq > rep.GoodTo:
			return broken(rep.GoodTo+1, BreakTail, fmt.Sprintf("the log ends at entry %d, but entry %d was written: the newest entries were deleted", rep.GoodTo, cp.Seq))
		case cp.Seq == rep.GoodTo && !hmac.Equal(cp.MAC, prev):
			return broken(rep.GoodTo, BreakMAC, fmt.Sprintf("entry %d is not the entry %d that was written last", rep.GoodTo, cp.Seq))
		}
		// cp.Seq < GoodTo: entries were appended by another process after
		// this checkpoint was read; the chain vouches for them.
	} else if rep.Entries > 0 {
		return broken(rep.GoodTo, BreakCheckpoint, "the audit checkpoint file is missing")
	}
	rep.Intact = true
	return rep, nil
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
