package status

import (
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func backup(status store.Status, age time.Duration, errText string, copies ...store.CopyStatus) store.Backup {
	b := store.Backup{ID: age.String(), Status: status, StartedAt: now.Add(-age), FinishedAt: now.Add(-age + time.Minute)}
	b.Error = errText
	for _, c := range copies {
		b.Copies = append(b.Copies, store.BackupCopy{Status: c})
	}
	return b
}

var (
	verified = &Check{Kind: "verify", When: now.Add(-time.Hour), OK: true}
	good1h   = backup(store.StatusSucceeded, time.Hour, "", store.CopyWritten)
)

func codes(rs []Reason) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return strings.Join(out, ",")
}

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Input
		state State
		codes string
	}{
		{"nothing yet", Input{}, Unprotected, "no_backup"},
		{"only failures", Input{Backups: []store.Backup{backup(store.StatusFailed, time.Hour, "password authentication failed")}}, Unprotected, "no_backup,backup_failed"},
		{"fresh, verified, daily", Input{Backups: []store.Backup{good1h}, Interval: 24 * time.Hour, LastCheck: verified}, Protected, ""},
		{"fresh, never verified", Input{Backups: []store.Backup{good1h}, Interval: 24 * time.Hour}, Attention, "never_verified"},
		{"the last scheduled backup failed (the password changed)", Input{Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{
			backup(store.StatusFailed, time.Hour, "pg_dump: the server refused the password\nSQLSTATE 28P01"), backup(store.StatusSucceeded, 25*time.Hour, "", store.CopyWritten)}},
			Failing, "backup_failed"},
		{"overdue: the app was not running", Input{Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{backup(store.StatusSucceeded, 31*time.Hour, "", store.CopyWritten)}}, Attention, "overdue"},
		{"late but within grace", Input{Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{backup(store.StatusSucceeded, 29*time.Hour, "", store.CopyWritten)}}, Protected, ""},
		{"no schedule, a week-old manual backup", Input{LastCheck: verified, Backups: []store.Backup{backup(store.StatusSucceeded, 8*24*time.Hour, "", store.CopyWritten)}}, Attention, "no_recent_backup"},
		{"no schedule, a recent manual backup", Input{LastCheck: verified, Backups: []store.Backup{good1h}}, Protected, ""},
		{"one storage failed", Input{LastCheck: verified, Backups: []store.Backup{backup(store.StatusSucceeded, time.Hour, "storage offsite: connection refused", store.CopyWritten, store.CopyFailed)}}, Attention, "backup_partial"},
		{"the last verify failed", Input{Backups: []store.Backup{good1h}, LastCheck: &Check{Kind: "verify", When: now, Problem: "chunk 3 does not authenticate"}}, Failing, "check_failed"},
		{"down, and overdue", Input{Interval: time.Hour, LastCheck: verified, Down: true, DownSince: now.Add(-3 * time.Hour), DownReason: "connection refused",
			Backups: []store.Backup{backup(store.StatusSucceeded, 4*time.Hour, "", store.CopyWritten)}}, Failing, "database_down,overdue"},
		{"paused", Input{Interval: 24 * time.Hour, Paused: true, LastCheck: verified, Backups: []store.Backup{good1h}}, Attention, "schedules_paused"},
		{"a running and a cancelled backup change nothing", Input{Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{
			backup(store.StatusRunning, time.Minute, ""), backup(store.StatusCancelled, 10*time.Minute, "interrupted by SIGINT"), good1h}}, Protected, ""},
		{"an imported file is not this machine's backup", Input{LastCheck: verified, Backups: []store.Backup{{ID: "i", Status: store.StatusSucceeded, Origin: store.OriginImport, StartedAt: now}}}, Unprotected, "no_backup"},
		{"write access the user accepted", Input{LastCheck: verified, Backups: []store.Backup{good1h}, WriteAccess: true, WriteAccepted: true}, Attention, "write_access"},
		{"write access found later", Input{LastCheck: verified, Backups: []store.Backup{good1h}, WriteAccess: true}, Failing, "write_access_found"},
		{"no recovery kit", Input{LastCheck: verified, Backups: []store.Backup{good1h}, NoRecoveryKit: true}, Attention, "no_recovery_kit"},
		{"a record changed outside PgSafe is ignored and said", Input{LastCheck: verified, Backups: []store.Backup{{ID: "x", Status: store.StatusDamaged}, good1h}}, Attention, "record_damaged"},
		{"pruned backups are not good ones", Input{LastCheck: verified, Backups: []store.Backup{backup(store.StatusSucceeded, time.Hour, "", store.CopyDeleted)}}, Unprotected, "no_backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now = now
			got := Of(tc.in)
			if got.State != tc.state || codes(got.Reasons) != tc.codes {
				t.Fatalf("Of = %s [%s], want %s [%s]; reasons %+v", got.State, codes(got.Reasons), tc.state, tc.codes, got.Reasons)
			}
			for _, r := range got.Reasons {
				if r.Message == "" || r.Action == "" || strings.Contains(r.Message, "\n") {
					t.Errorf("reason %+v: every reason needs one line of words and an action", r)
				}
			}
		})
	}
}

// The failed backup's reason quotes the recorded error's first line, and
// names when it happened.
func TestFailedReasonSaysWhy(t *testing.T) {
	failed := backup(store.StatusFailed, 2*time.Hour, "pg_dump: the server refused the password: check the user name and password\nSQLSTATE 28P01")
	st := Of(Input{Now: now, Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{failed, backup(store.StatusSucceeded, 26*time.Hour, "", store.CopyWritten)}})
	r := st.Reasons[0]
	if r.Code != CodeBackupFailed || !strings.Contains(r.Message, "refused the password") || strings.Contains(r.Message, "SQLSTATE") || !r.Since.Equal(failed.StartedAt) {
		t.Fatalf("reason %+v", r)
	}
	if st.LastGood == nil || st.LastGood.ID != (26*time.Hour).String() || st.Last.ID != failed.ID {
		t.Fatalf("last %v, last good %v", st.Last, st.LastGood)
	}
}

func TestCause(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{`back up Shop: cannot connect to db:5432/shop as "reader": the server refused the password (FATAL: password authentication failed (SQLSTATE 28P01))`,
			`The server refused the password (reader@db:5432/shop)`},
		{"written to 1 of 2 storages; storage nas: disk full", "Written to 1 of 2 storages; storage nas: disk full"},
		{"back up Shop: pg_dump exited 1\nmore detail", "pg_dump exited 1"},
		{"", ""},
	} {
		if got := Cause(store.Backup{BackupDetails: store.BackupDetails{DatabaseName: "Shop", Error: tc.err}}); got != tc.want {
			t.Errorf("Cause(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// A credentials command that failed is its own reason, in its own words,
// whether a backup or the health checks ran it, and said once.
func TestCredentialsCommandReason(t *testing.T) {
	msg := "the credentials command exited 1: vault: permission denied"
	failed := backup(store.StatusFailed, 2*time.Hour, msg)
	good := backup(store.StatusSucceeded, 26*time.Hour, "", store.CopyWritten)
	st := Of(Input{Now: now, Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{failed, good}})
	if st.State != Failing || codes(st.Reasons) != CodeCredCommand {
		t.Fatalf("a failed command at backup: %s [%s]", st.State, codes(st.Reasons))
	}
	if r := st.Reasons[0]; r.Message != "The credentials command exited 1: vault: permission denied (the last backup could not connect)" || !strings.Contains(r.Action, "Run the command") {
		t.Fatalf("reason %+v", r)
	}
	st = Of(Input{Now: now, Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{good},
		Down: true, DownSince: now.Add(-time.Hour), DownReason: msg})
	if codes(st.Reasons) != CodeCredCommand || st.Reasons[0].Message != "The credentials command exited 1: vault: permission denied" {
		t.Fatalf("a failed command at the health checks: %+v", st.Reasons)
	}
	st = Of(Input{Now: now, Interval: 24 * time.Hour, LastCheck: verified, Backups: []store.Backup{failed, good},
		Down: true, DownSince: now.Add(-time.Hour), DownReason: msg})
	if codes(st.Reasons) != CodeCredCommand {
		t.Fatalf("both: %+v", st.Reasons)
	}
}

// A cloud drive whose sign-in was revoked says "sign in again", names the
// storage, and is failing (every storage) or needs attention (one of several).
func TestSignInAgain(t *testing.T) {
	const revoked = "storage gd: sign in to Google Drive again: the permission PgSafe was given was revoked or has expired"
	failed := backup(store.StatusFailed, 30*time.Minute, "back up crm: "+revoked)
	st := Of(Input{Now: now, Backups: []store.Backup{failed, good1h}, LastCheck: verified})
	r := st.Reasons[0]
	if st.State != Failing || codes(st.Reasons) != CodeSignIn || r.Storage != "gd" ||
		r.Action != "Sign in to Google Drive again" || !strings.HasPrefix(r.Message, "Sign in to Google Drive again") {
		t.Fatalf("status = %+v", st)
	}
	partial := backup(store.StatusSucceeded, 30*time.Minute, revoked, store.CopyWritten, store.CopyFailed)
	st = Of(Input{Now: now, Backups: []store.Backup{partial}, LastCheck: verified})
	if st.State != Attention || codes(st.Reasons) != CodeSignIn || st.Reasons[0].Storage != "gd" {
		t.Fatalf("status = %+v", st)
	}
	// A name with a space (the window's button signs in the storage named).
	spaced := backup(store.StatusFailed, 30*time.Minute, "back up crm: "+strings.Replace(revoked, "storage gd:", "storage My Drive:", 1))
	st = Of(Input{Now: now, Backups: []store.Backup{spaced, good1h}, LastCheck: verified})
	if codes(st.Reasons) != CodeSignIn || st.Reasons[0].Storage != "My Drive" {
		t.Fatalf("a storage named with a space: %+v", st.Reasons)
	}
}
