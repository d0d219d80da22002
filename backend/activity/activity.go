// Package activity says each audit log entry as a sentence a person reads
// ("Backed up Shop: 34.8 MB to Local disk in 2 s (scheduled)"), and sorts
// entries by kind and database for the Activity screen's filters. It is
// pure: the caller brings what the history knows of the backup an entry
// names (Backup), so the window and the command line say the same words.
// No event codes, ids or raw byte counts appear in a sentence; the raw
// entry stays one click away.
package activity

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/human"
)

// Kind groups actions for the Activity screen's filter.
type Kind string

const (
	KindBackups  Kind = "backups"  // backups made, failed, pruned, imported
	KindChecks   Kind = "checks"   // verifications, restore drills, privilege and connection checks
	KindRestores Kind = "restores" // restores
	KindSettings Kind = "settings" // databases, schedules, retention, storages, notifiers, settings
	KindSecurity Kind = "security" // the master key, recovery kits, write access, the log itself
	KindOther    Kind = "other"    // PgSafe starting and stopping, failed notifications
)

// Kinds are the filter's choices, in the order the screen offers them.
var Kinds = []Kind{KindBackups, KindChecks, KindRestores, KindSettings, KindSecurity, KindOther}

// Backup is what the history knows of the backup an entry names.
type Backup struct {
	Started  time.Time
	Duration time.Duration // zero: unknown, or not finished
	Storages []string      // the storages it was written to, by name
}

// Sentence is an entry in words. Text may hold "{when}": a time the
// reader's side writes in its own way (the window in the user's locale),
// When.
type Sentence struct {
	Text string
	When time.Time
}

// WhenToken is where Sentence.When goes in Sentence.Text.
const WhenToken = "{when}"

// Render writes the sentence with its time written by format.
func (s Sentence) Render(format func(time.Time) string) string {
	if !strings.Contains(s.Text, WhenToken) {
		return s.Text
	}
	return strings.ReplaceAll(s.Text, WhenToken, format(s.When))
}

// String renders the time as "5 Dec 2026 14:02" in its own location.
func (s Sentence) String() string {
	return s.Render(func(t time.Time) string { return t.Format("2 Jan 2006 15:04") })
}

// KindOf is the group an action belongs to.
func KindOf(action string) Kind {
	switch action {
	case "backup.started", "backup.finished", "backup.failed", "backup.deleted", "backup.kept", "backup.imported":
		return KindBackups
	case "backup.verify", "backup.drill", "database.checked", "database.up", "database.down":
		return KindChecks
	case "backup.restore":
		return KindRestores
	case "database.write_access_refused", "database.write_access_accepted", "database.readonly_role_created", "database.readonly_role_failed":
		return KindSecurity
	case "app.started", "app.stopped", "notification.failed":
		return KindOther
	}
	switch prefix, _, _ := strings.Cut(action, "."); prefix {
	case "key", "audit", "roles":
		return KindSecurity
	case "database", "db", "schedule", "retention", "health_policy", "drill_policy", "storage", "notifier", "settings":
		return KindSettings
	case "backup":
		return KindBackups
	}
	return KindOther
}

// Database is the name of the database r is about, or "" (a storage, a
// notifier, the key, every schedule, PgSafe itself).
func Database(r audit.Record) string {
	switch r.Action {
	case "database.readonly_role_created", "database.readonly_role_failed": // the target is the new role
		return ""
	case "schedule.paused", "schedule.resumed":
		return ""
	}
	switch prefix, _, _ := strings.Cut(r.Action, "."); prefix {
	case "backup", "database", "db", "schedule", "retention", "health_policy", "drill_policy":
		return r.Target
	}
	return ""
}

var verdictWords = map[string]string{
	"read_only":               "read-only ✓",
	"read_only_with_warnings": "read-only, with warnings",
	"write_access":            "can change data ✗",
}

var originWords = map[string]string{"scheduled": "scheduled", "import": "imported"}

var kindWords = map[string]string{
	"local": "a folder", "s3": "S3", "sftp": "SFTP", "azure": "Azure Blob Storage",
	"gdrive": "Google Drive", "dropbox": "Dropbox", "onedrive": "OneDrive",
	"email": "email", "slack": "Slack", "discord": "Discord", "teams": "Microsoft Teams", "telegram": "Telegram",
	"webhook": "a webhook", "desktop": "desktop notifications",
}

var fieldWords = map[string]string{
	"name": "name", "host": "host", "port": "port", "dbname": "database name", "user": "user", "password": "password",
	"sslmode": "encryption", "sslrootcert": "CA certificate", "sslcert": "client certificate", "sslkey": "client key",
	"sslpassword": "client key passphrase", "ssh": "SSH tunnel", "count_rows": "row counts", "timeout": "time limit",
	"storage_ids": "storages", "drill_server": "drill server",
}

// Describe says r in words; b is the backup r names (its fields'
// backup_id) as the history knows it, or nil.
func Describe(r audit.Record, b *Backup) Sentence {
	f := func(k string) string { return r.Fields[k] }
	t := r.Target
	failed := r.Outcome == audit.Failed
	why := Reason(r.Message)
	say := func(format string, a ...any) Sentence { return Sentence{Text: fmt.Sprintf(format, a...)} }
	// ofBackup is "Shop's backup of {when}", or "a backup of Shop" when the
	// history no longer knows it.
	ofBackup := func() (string, time.Time) {
		if b != nil && !b.Started.IsZero() {
			return possessive(t) + " backup of " + WhenToken, b.Started
		}
		return "a backup of " + t, time.Time{}
	}
	withReason := func(s string) string {
		if why == "" {
			return s
		}
		return s + ": " + why
	}
	switch r.Action {
	case "backup.started":
		return say("Started a backup of %s%s", t, origin(f("origin")))
	case "backup.finished":
		size := ""
		if n, err := strconv.ParseInt(f("stored_size"), 10, 64); err == nil {
			size = human.Bytes(n)
		}
		to := storagesOf(b, f("storages"))
		took := ""
		if b != nil && b.Duration > 0 {
			took = " in " + human.Duration(b.Duration)
		}
		if r.Outcome == "partial" {
			return say("%s", withReason(fmt.Sprintf("Backed up %s to %s%s, but not to every storage", t, orSome(to, "some storages"), took)))
		}
		s := "Backed up " + t
		if size != "" {
			s += ": " + size
		}
		if to != "" {
			s += " to " + to
		}
		return say("%s%s%s", s, took, origin(f("origin")))
	case "backup.failed":
		if f("interrupted") == "true" {
			return say("Backup of %s was interrupted: the PgSafe process running it ended (killed, crashed or the computer restarted)", t)
		}
		return say("%s%s", withReason("Backup of "+t+" failed"), origin(f("origin")))
	case "backup.verify", "backup.drill", "backup.restore":
		what, when := ofBackup()
		var s string
		switch {
		case r.Action == "backup.verify" && !failed:
			s = "Verified " + what
		case r.Action == "backup.verify":
			s = withReason("Verification of " + what + " failed")
		case r.Action == "backup.drill" && !failed:
			s = "Restore drill of " + what + " passed: restored and row counts compared"
		case r.Action == "backup.drill":
			s = withReason("Restore drill of " + what + " failed")
		case !failed:
			s = "Restored " + what
		default:
			s = withReason("Restore of " + what + " failed")
		}
		return Sentence{Text: capitalize(s), When: when}
	case "backup.deleted":
		what, when := ofBackup()
		s := "Removed " + what
		if st := f("storage"); st != "" {
			s += " from " + st
		}
		if reason := f("reason"); reason != "" {
			s += " (" + reason + ")"
		}
		return Sentence{Text: capitalize(s), When: when}
	case "backup.kept":
		what, when := ofBackup()
		s := "Kept " + what
		if st := f("storage"); st != "" {
			s += " on " + st
		}
		s += ", which retention would remove"
		if kept := f("kept"); kept != "" {
			s += " (" + kept + ")"
		}
		return Sentence{Text: capitalize(s), When: when}
	case "backup.imported":
		if st := f("storage"); st != "" {
			return say("Imported a backup of %s found on %s", t, st)
		}
		return say("Imported a backup of %s from a file", t)

	case "database.created":
		s := "Added database " + t
		if v, ok := verdictWords[f("verdict")]; ok {
			s += " (" + v + ")"
		} else if f("checked") == "false" {
			s += " (privileges not checked)"
		}
		return say("%s", s)
	case "database.changed":
		s := "Changed " + t
		if old := f("renamed_from"); old != "" {
			s = "Renamed " + old + " to " + t
		}
		if list := fieldList(f("fields"), "name"); list != "" {
			s += ": " + list
		}
		if limit := f("timeout"); limit != "" {
			if limit == "none" {
				s += " (no time limit)"
			} else if d, err := time.ParseDuration(limit); err == nil {
				s += " (time limit " + human.Duration(d) + ")"
			}
		}
		if v, ok := verdictWords[f("verdict")]; ok {
			s += " (" + v + ")"
		}
		return say("%s", s)
	case "db.changed":
		if st := f("storages"); st != "" || strings.Contains(f("fields"), "storage") {
			return say("Chose where %s is backed up: %s", t, orSome(joinAnd(split(st)), "no storage"))
		}
		return say("Changed %s: %s", t, fieldList(f("fields"), ""))
	case "database.deleted":
		return say("Removed database %s from PgSafe (its backups stay in storage)", t)
	case "roles.created": // by a restore that was asked to (docs/RESTORE.md)
		how := "without passwords, unable to log in"
		if f("login") == "true" {
			how = "without passwords"
		}
		return say("Created the roles %s on %s for a restore (%s)", f("roles"), t, how)
	case "database.gone": // a server entry's database (docs/DATABASES.md)
		if strings.Contains(r.Message, "now excluded") {
			return say("%s is now left out of server %s's backups (its backups are kept)", t, f("server"))
		}
		return say("%s is no longer on server %s (its backups are kept)", t, f("server"))
	case "database.returned":
		return say("%s is on server %s again and is backed up with it", t, f("server"))
	case "database.checked":
		if v, ok := verdictWords[f("verdict")]; ok {
			return say("Checked what %s's role may do: %s", t, v)
		}
		return say("Checked what %s's role may do", t)
	case "database.write_access_refused":
		return say("Did not save %s: its role can change data, and write access was not accepted", t)
	case "database.write_access_accepted":
		return say("Accepted that %s's role can change data (PgSafe only needs to read)", t)
	case "database.readonly_role_created":
		s := "Created the read-only role " + t
		if v, ok := verdictWords[f("verdict")]; ok {
			s += " (" + v + ")"
		}
		return say("%s", s)
	case "database.readonly_role_failed":
		return say("%s", withReason("Creating the read-only role "+t+" failed"))
	case "database.up":
		return say("%s answers again", t)
	case "database.down":
		return say("%s", withReason(t+" stopped answering"))

	case "schedule.changed":
		if s := f("schedule"); s != "" {
			return say("Set the schedule of %s: %s", t, s)
		}
		return say("Changed the schedule of %s", t)
	case "schedule.cleared":
		return say("Removed the schedule of %s: it is no longer backed up on its own", t)
	case "schedule.paused":
		if until, err := time.Parse(time.RFC3339, f("until")); err == nil {
			return Sentence{Text: "Paused scheduled backups until " + WhenToken, When: until}
		}
		return say("Paused scheduled backups until resumed")
	case "schedule.resumed":
		return say("Resumed scheduled backups")
	case "retention.changed":
		if p := f("policy"); p != "" {
			return say("Set which backups of %s are kept: %s", t, p)
		}
		return say("Changed which backups of %s are kept", t)
	case "health_policy.changed":
		secs, _ := strconv.Atoi(f("interval_seconds"))
		if secs <= 0 {
			return say("Turned off the connection check of %s", t)
		}
		return say("Set the connection check of %s: every %s, down after %s failures in a row", t,
			human.Duration(time.Duration(secs)*time.Second), orSome(f("failures_before_down"), "3"))
	case "drill_policy.changed":
		n, _ := strconv.Atoi(f("every_backups"))
		d, _ := strconv.Atoi(f("every_days"))
		var parts []string
		if n == 1 {
			parts = append(parts, "after every backup")
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("after every %d backups", n))
		}
		if d > 0 {
			parts = append(parts, "every "+human.Duration(time.Duration(d)*24*time.Hour))
		}
		if len(parts) == 0 {
			return say("Turned off automatic restore drills for %s", t)
		}
		return say("Set automatic restore drills for %s: %s", t, strings.Join(parts, ", or "))

	case "storage.created":
		if k := kindWords[f("kind")]; k != "" {
			return say("Added storage %s (%s)", t, k)
		}
		return say("Added storage %s", t)
	case "storage.deleted":
		return say("Removed storage %s", t)
	case "storage.signed_in":
		return say("Signed in to %s again for storage %s", kindWords[f("kind")], t)
	case "notifier.created":
		if k := kindWords[f("kind")]; k != "" {
			return say("Added notifications by %s: %s", k, t)
		}
		return say("Added notifier %s", t)
	case "notifier.deleted":
		return say("Removed notifier %s", t)
	case "notification.failed":
		s := "A notification through " + t + " could not be sent"
		if n, _ := strconv.Atoi(f("attempts")); n > 1 {
			s += fmt.Sprintf(" after %d tries", n)
		}
		return say("%s", withReason(s))
	case "settings.changed":
		if t == "drill server" && r.Message == "removed" {
			return say("Removed the drill server")
		}
		if t == "drill server" {
			return say("Set the server restore drills run on")
		}
		return say("Changed the settings: %s", orSome(fieldList(f("fields"), ""), t))
	case "settings.accepted":
		return say("Accepted the settings database as changed outside PgSafe")

	case "key.created":
		return say("Created the master key that encrypts every backup%s", keySource(f("source")))
	case "key.exported":
		return say("Saved a recovery kit for the master key")
	case "key.imported":
		return say("Brought in the master key from a recovery kit")
	case "key.replaced":
		return say("Replaced the master key from a recovery kit (the previous key was kept aside)")
	case "key.source_changed":
		return say("Moved the master key%s", keySource(f("source")))
	case "key.kit_postponed":
		return say("Chose to save a recovery kit later")
	case audit.ActionGenesis:
		return say("The activity log began")
	case "audit.verified":
		if failed {
			return say("%s", withReason("Verified the activity log: it is broken"))
		}
		return say("Verified the activity log: every entry is in order")
	case audit.ActionBroken:
		s := "The activity log was found changed or damaged"
		if at := f("broken_at"); at != "" {
			s += " at entry " + at
		}
		return say("%s", withReason(s))
	case "app.started":
		return say("PgSafe started")
	case "app.stopped":
		return say("PgSafe stopped")
	}
	// An action this version does not know (a newer PgSafe wrote it): its
	// name in words, and what it acted on.
	words := strings.NewReplacer(".", " ", "_", " ").Replace(r.Action)
	s := capitalize(words)
	if t != "" {
		s += ": " + t
	}
	if failed {
		s += " (failed)"
	}
	return say("%s", withReason(s))
}

func origin(o string) string {
	if w := originWords[o]; w != "" {
		return " (" + w + ")"
	}
	return ""
}

func storagesOf(b *Backup, count string) string {
	if b != nil && len(b.Storages) > 0 {
		return joinAnd(b.Storages)
	}
	switch n, _ := strconv.Atoi(count); {
	case n == 1:
		return "1 storage"
	case n > 1:
		return strconv.Itoa(n) + " storages"
	}
	return ""
}

func keySource(s string) string {
	switch s {
	case "keychain":
		return " (kept in this computer's keychain)"
	case "key-file", "protected-key-file":
		return " (kept in a protected key file)"
	case "recovery-kit":
		return " (from a recovery kit)"
	}
	return ""
}

// fieldList is a comma-separated list of changed fields in words, leaving
// out skip.
func fieldList(list, skip string) string {
	var out []string
	for _, f := range split(list) {
		if f == skip {
			continue
		}
		w, ok := fieldWords[f]
		if !ok {
			w = strings.ReplaceAll(f, "_", " ")
		}
		out = append(out, w)
	}
	return joinAnd(out)
}

func split(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func orSome(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var (
	// "… (pg_dump said: …)", "(server said: …)": the program's own words,
	// kept in the raw entry.
	saidRe = regexp.MustCompile(`\s*\((?:[\w ]+ )?said: .*\)\s*$`)
	// "cannot connect to host:5432/shop as "backup": "
	connRe = regexp.MustCompile(`^(?:.*?: )?cannot connect to \S+ as "[^"]*": `)
	toolRe = regexp.MustCompile(`^(?:.*?: )?(?:pg_dump|pg_restore|psql|pg_dumpall): `)
)

// Reason is the part of a recorded error a person reads: its first line,
// without the wrapping that names PgSafe's steps, the connection, or the
// program, and without the program's or server's own words (those stay in
// the raw entry).
func Reason(msg string) string {
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	if msg == "" {
		return ""
	}
	msg = saidRe.ReplaceAllString(msg, "")
	if m := connRe.FindString(msg); m != "" {
		msg = trimParenthetical(msg[len(m):]) // the network's or server's own words
	} else if m := toolRe.FindString(msg); m != "" {
		msg = msg[len(m):]
	}
	return strings.TrimSpace(msg)
}

// trimParenthetical drops a trailing "(…)" (with nested parentheses).
func trimParenthetical(s string) string {
	s = strings.TrimSpace(s)
	if i := human.TrailingParen(s); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
