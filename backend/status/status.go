// Package status answers "is this database safe?": one state per database
// and the reasons for it, newest and worst first, computed from what is
// recorded (the backup history, the last verification, the health checks,
// the schedule). It is a pure function of its Input, as retention is, so
// every face that shows it (the window, the tray, `pgsafe status`) says the
// same thing.
package status

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/credcmd"
	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/store"
)

// State is how safe a database is, best first.
type State string

const (
	// Protected: a good backup on every storage, recent enough for its
	// schedule, nothing wrong since.
	Protected State = "protected"
	// Attention: backed up, but something needs a look (overdue, one
	// storage failed, never verified, schedules paused).
	Attention State = "attention"
	// Failing: the last backup or check failed, or the database is down.
	Failing State = "failing"
	// Unprotected: no good backup at all.
	Unprotected State = "unprotected"
)

// Words is the state as the window's badges say it ("needs attention").
func (s State) Words() string {
	switch s {
	case Protected:
		return "protected"
	case Attention:
		return "needs attention"
	case Failing:
		return "failing"
	case Unprotected:
		return "not backed up yet"
	}
	return string(s)
}

// rank orders states from best to worst.
func (s State) rank() int {
	switch s {
	case Attention:
		return 1
	case Failing:
		return 2
	case Unprotected:
		return 3
	}
	return 0
}

// Worse is the worse of a and b.
func Worse(a, b State) State {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Reason codes.
const (
	CodeNoBackup      = "no_backup"
	CodeBackupFailed  = "backup_failed"
	CodePartial       = "backup_partial"
	CodeOverdue       = "overdue"
	CodeStale         = "no_recent_backup"
	CodeCheckFailed   = "check_failed"
	CodeNeverVerified = "never_verified"
	CodeDown          = "database_down"
	CodePaused        = "schedules_paused"
	CodeDamaged       = "record_damaged"
	CodeWriteAccess   = "write_access"
	CodeWriteFound    = "write_access_found"
	CodeNoKit         = "no_recovery_kit"
	CodeGone          = "database_gone"
	CodeDatabases     = "server_databases"
	// CodeCredCommand: the database's credentials command failed (at the
	// last backup, or at the health checks), so PgSafe could not even try
	// the server.
	CodeCredCommand = "credentials_command_failed"
	// CodeSignIn: a cloud drive storage's sign-in was revoked or expired
	// (oauth.ReauthError) at the last backup; only signing in again fixes it.
	CodeSignIn = "storage_sign_in"
)

// Reason is one thing that makes a database less than protected: what, in
// a sentence; since when; and what fixes it.
type Reason struct {
	Code     string    `json:"code"`
	Severity State     `json:"severity"`
	Message  string    `json:"message"`
	Since    time.Time `json:"since"`
	Action   string    `json:"action"`
	// Storage names the storage the reason is about, when it is one's
	// (storage_sign_in: the storage to sign in again).
	Storage string `json:"storage,omitempty"`
}

// Check is the newest verification or restore drill of a database.
type Check struct {
	Kind    string // "verify" or "drill"
	When    time.Time
	OK      bool
	Problem string
}

// Input is what is recorded about one database.
type Input struct {
	Now time.Time
	// Backups is its history, newest first (running ones are skipped).
	Backups []store.Backup
	// Interval is the time between its scheduled backups (0: no schedule).
	Interval time.Duration
	// PausedUntil is set while schedules are paused.
	PausedUntil time.Time
	Paused      bool
	// LastCheck is its newest verification or drill (nil: never).
	LastCheck *Check
	// Down: its health checks say it cannot be reached, since DownSince.
	Down       bool
	DownSince  time.Time
	DownReason string
	// WriteAccess: the newest privilege check found that its role can change
	// data, at CheckedAt. WriteAccepted: the user accepted that (when adding
	// or editing it); without it, write access found later is a failure.
	WriteAccess   bool
	WriteAccepted bool
	CheckedAt     time.Time
	// NoRecoveryKit: this machine's key has never been exported as a
	// recovery kit, so a lost computer loses every backup with it.
	NoRecoveryKit bool
	// Gone: a server entry's database that is no longer on the server (or
	// is now excluded), since then. See OfGone.
	Gone time.Time
}

// Status is a database's state, its reasons (worst, then newest, first),
// its newest finished backup and its newest good one.
type Status struct {
	State    State         `json:"state"`
	Reasons  []Reason      `json:"reasons"`
	Last     *store.Backup `json:"-"`
	LastGood *store.Backup `json:"-"`
}

// StaleAfter is how old the newest good backup of a database without a
// schedule may be before it needs attention.
const StaleAfter = 7 * 24 * time.Hour

// Grace is how late a scheduled backup may be before it is overdue: a
// quarter of the interval, at least an hour (a laptop that slept, a long
// backup, retries).
func Grace(interval time.Duration) time.Duration { return max(interval/4, time.Hour) }

// Of computes a database's status.
func Of(in Input) Status {
	if !in.Gone.IsZero() {
		return ofGone(in)
	}
	var st Status
	add := func(r Reason) { st.Reasons = append(st.Reasons, r) }
	damaged := false
	for i := range in.Backups {
		b := &in.Backups[i]
		if b.Origin == store.OriginImport {
			continue // a file brought in: it says nothing of this machine's backups
		}
		switch b.Status {
		case store.StatusRunning, store.StatusCancelled:
			continue // in progress, or stopped on purpose: neither good nor failed
		case store.StatusDamaged:
			damaged = true // changed outside PgSafe: nothing it says is trusted
			continue
		}
		if st.Last == nil {
			st.Last = b
		}
		if b.Status == store.StatusSucceeded && b.Shown() == store.StatusSucceeded {
			st.LastGood = b
			break
		}
	}

	switch {
	case st.LastGood == nil:
		add(Reason{Code: CodeNoBackup, Severity: Unprotected, Message: "No backup has succeeded yet", Action: "Back up now"})
	case in.Interval > 0 && in.Now.Sub(st.LastGood.StartedAt) > in.Interval+Grace(in.Interval):
		add(Reason{Code: CodeOverdue, Severity: Attention, Since: st.LastGood.StartedAt.Add(in.Interval),
			Message: fmt.Sprintf("No good backup for %s, though one is scheduled every %s", ago(in.Now.Sub(st.LastGood.StartedAt)), ago(in.Interval)),
			Action:  "Check that PgSafe is running, then back up now"})
	case in.Interval == 0 && in.Now.Sub(st.LastGood.StartedAt) > StaleAfter:
		add(Reason{Code: CodeStale, Severity: Attention, Since: st.LastGood.StartedAt.Add(StaleAfter),
			Message: fmt.Sprintf("The newest backup is %s old and no schedule makes new ones", ago(in.Now.Sub(st.LastGood.StartedAt))),
			Action:  "Set a schedule"})
	}
	credFailed := false
	if l := st.Last; l != nil && l != st.LastGood && l.Status == store.StatusFailed {
		if svc, ok := oauth.ReauthIn(l.Error); ok {
			add(signInReason(svc, l.Error, Failing, l.StartedAt, "the last backup failed"))
		} else if cause := Cause(*l); isCredCommand(cause) {
			credFailed = true
			add(Reason{Code: CodeCredCommand, Severity: Failing, Since: l.StartedAt,
				Message: cause + " (the last backup could not connect)", Action: credAction})
		} else {
			add(Reason{Code: CodeBackupFailed, Severity: Failing, Since: l.StartedAt,
				Message: "The last backup failed: " + lower(cause), Action: "See why, fix it, and back up again"})
		}
	}
	if g := st.LastGood; g != nil && g == st.Last && g.Error != "" {
		if svc, ok := oauth.ReauthIn(g.Error); ok {
			add(signInReason(svc, g.Error, Attention, g.StartedAt, "the last backup did not reach it"))
		} else {
			add(Reason{Code: CodePartial, Severity: Attention, Since: g.StartedAt,
				Message: "The last backup did not reach every storage: " + firstLine(g.Error), Action: "Check the storage, then back up again"})
		}
	}
	if c := in.LastCheck; c != nil && !c.OK {
		add(Reason{Code: CodeCheckFailed, Severity: Failing, Since: c.When,
			Message: fmt.Sprintf("The last %s failed: %s", checkWord(c.Kind), firstLine(c.Problem)), Action: "See the problem, and verify a newer backup"})
	}
	if in.LastCheck == nil && st.LastGood != nil {
		add(Reason{Code: CodeNeverVerified, Severity: Attention, Since: st.LastGood.FinishedAt,
			Message: "No backup of it has been verified yet", Action: "Verify the newest backup"})
	}
	if damaged {
		add(Reason{Code: CodeDamaged, Severity: Attention, Message: "A backup record in the history was changed outside PgSafe; PgSafe ignores it",
			Action: "Check the Activity log"})
	}
	switch {
	case in.Down && isCredCommand(firstLine(in.DownReason)):
		if !credFailed {
			r := firstLine(in.DownReason)
			add(Reason{Code: CodeCredCommand, Severity: Failing, Since: in.DownSince,
				Message: strings.ToUpper(r[:1]) + r[1:], Action: credAction})
		}
	case in.Down:
		msg := "The database cannot be reached"
		if in.DownReason != "" {
			msg += ": " + firstLine(in.DownReason)
		}
		add(Reason{Code: CodeDown, Severity: Failing, Since: in.DownSince, Message: msg, Action: "Check the server, or update the connection"})
	}
	switch {
	case in.WriteAccess && in.WriteAccepted:
		add(Reason{Code: CodeWriteAccess, Severity: Attention, Since: in.CheckedAt,
			Message: "Its role can change data (you accepted this); PgSafe needs only read access",
			Action:  "Switch to a read-only role"})
	case in.WriteAccess:
		add(Reason{Code: CodeWriteFound, Severity: Failing, Since: in.CheckedAt,
			Message: "Its role can now change data, though it was read-only when added",
			Action:  "Re-check the role, or switch to a read-only role"})
	}
	if in.NoRecoveryKit {
		add(Reason{Code: CodeNoKit, Severity: Attention,
			Message: "No recovery kit has been saved: if this computer is lost, no backup can be opened",
			Action:  "Save a recovery kit"})
	}
	if in.Paused && in.Interval > 0 {
		msg := "Scheduled backups are paused"
		if !in.PausedUntil.IsZero() {
			msg += " until " + in.PausedUntil.Local().Format("Mon 2 Jan 15:04")
		}
		add(Reason{Code: CodePaused, Severity: Attention, Message: msg, Action: "Resume schedules"})
	}

	st.State = Protected
	for _, r := range st.Reasons {
		st.State = Worse(st.State, r.Severity)
	}
	sort.SliceStable(st.Reasons, func(i, j int) bool {
		a, b := st.Reasons[i], st.Reasons[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() > b.Severity.rank()
		}
		return a.Since.After(b.Since)
	})
	if st.Reasons == nil {
		st.Reasons = []Reason{}
	}
	return st
}

// signInReason: a cloud drive's permission is gone; the fix is to sign in
// to it again (the window's button does, for the storage named in the
// backup's error).
func signInReason(service, recorded string, sev State, since time.Time, what string) Reason {
	name := ""
	if m := storageNamed.FindStringSubmatch(recorded); m != nil {
		name = m[1]
	}
	return Reason{Code: CodeSignIn, Severity: sev, Since: since, Storage: name,
		Message: fmt.Sprintf("Sign in to %s again: PgSafe's permission was revoked or has expired, so %s", service, what),
		Action:  fmt.Sprintf("Sign in to %s again", service)}
}

// storageNamed finds the storage a recorded error is about: "storage NAME: "
// (a name may hold spaces: "My Drive").
var storageNamed = regexp.MustCompile(`storage (.+?): `)

// credAction fixes a failing credentials command.
const credAction = "Run the command in a terminal to see why, fix it (or sign in to its tool), or replace it"

// isCredCommand says whether a recorded failure is the credentials
// command's own (credcmd's errors all start with its Prefix).
func isCredCommand(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), credcmd.Prefix)
}

func checkWord(kind string) string {
	if kind == "drill" {
		return "restore drill"
	}
	return "verification"
}

// Cause is why a backup failed (or which storages lack it), from its
// recorded error, as a sentence: the first line, without the "back up
// NAME: " the pipeline puts first and without the server's own words in
// parentheses at the end (those stay in the recorded error, the detail a
// face shows one click away).
func Cause(b store.Backup) string {
	s := firstLine(b.Error)
	for _, prefix := range []string{"back up " + b.DatabaseName + ": ", "back up " + b.DatabaseName + " "} {
		s = strings.TrimPrefix(s, prefix)
	}
	if i := human.TrailingParen(s); i > len(s)/3 {
		s = strings.TrimSpace(s[:i])
	}
	// pg.ConnError says where first and what happened second: the card has
	// room for the second.
	if m := connFailed.FindStringSubmatch(s); m != nil {
		s = fmt.Sprintf("%s (%s@%s)", m[3], m[2], m[1])
	}
	if word, _, _ := strings.Cut(s, " "); word == "" || strings.ContainsAny(word, "_.:/") {
		return s // "pg_dump …", a path: left as written
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// connFailed matches pg.ConnError's text: cannot connect to ADDR as "USER": WHAT.
var connFailed = regexp.MustCompile(`^cannot connect to (\S+) as "([^"]*)": (.+)$`)

// lower makes a sentence the second half of another.
func lower(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// firstLine is the first line of a recorded error.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// ago says a duration the way a person would: "3 h", "2 days".
func ago(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
