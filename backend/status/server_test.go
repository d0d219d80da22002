package status

import (
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

func TestGoneDatabase(t *testing.T) {
	// Gone, with a failed backup before it went and a schedule that would
	// make it overdue: one reason, attention, never failing or overdue.
	in := Input{Now: now, Interval: time.Hour, Gone: now.Add(-48 * time.Hour), Backups: []store.Backup{
		backup(store.StatusFailed, 50*time.Hour, "connection refused"), backup(store.StatusSucceeded, 60*time.Hour, "", store.CopyWritten)}}
	st := Of(in)
	if st.State != Attention || codes(st.Reasons) != CodeGone || st.LastGood == nil || !strings.Contains(st.Reasons[0].Message, "backups are kept") {
		t.Fatalf("gone: %+v", st)
	}
	if st := Of(Input{Now: now, Gone: now}); st.State != Attention || strings.Contains(st.Reasons[0].Message, "kept") {
		t.Fatalf("gone with no backup: %+v", st)
	}
}

func TestOfServer(t *testing.T) {
	protected := Status{State: Protected, Reasons: []Reason{}}
	attention := Status{State: Attention, Reasons: []Reason{{Code: CodeGone, Severity: Attention}}}
	failing := Status{State: Failing, Reasons: []Reason{{Code: CodeBackupFailed, Severity: Failing}}}
	ownPartial := Of(Input{Now: now, Interval: 24 * time.Hour, Backups: []store.Backup{backup(store.StatusSucceeded, time.Hour, "1 of 2 databases backed up; x: failed")}})
	for _, tc := range []struct {
		name     string
		own      Status
		children []Child
		state    State
		codes    string
		message  string
	}{
		{"before its first run", Of(Input{Now: now}), nil, Unprotected, "no_backup", ""},
		{"all protected", ownPartial, []Child{{"a", protected}, {"b", protected}}, Protected, "", ""},
		{"worst child", ownPartial, []Child{{"a", protected}, {"b", failing}, {"c", attention}}, Failing, "server_databases",
			"2 of 3 databases need a look: b (failing), c (needs attention)"},
		{"the listing failed", Of(Input{Now: now, Backups: []store.Backup{backup(store.StatusFailed, time.Hour, "cannot connect"), backup(store.StatusSucceeded, 2*time.Hour, "")}}),
			[]Child{{"a", protected}}, Failing, "backup_failed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := OfServer(tc.own, tc.children)
			if st.State != tc.state || codes(st.Reasons) != tc.codes {
				t.Fatalf("state %s (%s), want %s (%s)", st.State, codes(st.Reasons), tc.state, tc.codes)
			}
			if tc.message != "" && st.Reasons[0].Message != tc.message {
				t.Fatalf("message %q, want %q", st.Reasons[0].Message, tc.message)
			}
		})
	}
}
