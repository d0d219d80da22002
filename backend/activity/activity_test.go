package activity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
)

const backupID = "0b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b"

var started = time.Date(2026, 12, 5, 14, 2, 0, 0, time.UTC)

func rec(action, outcome, target string, fields map[string]string, msg string) audit.Record {
	return audit.Record{Seq: 42, At: started.Add(time.Hour), Actor: "pgsafe", Entry: audit.Entry{
		Action: action, Outcome: outcome, Target: target, Fields: fields, Message: msg}}
}

var shopBackup = &Backup{Started: started, Duration: 2 * time.Second, Storages: []string{"Local disk"}}

// cases covers every action the engine, the keys package, the window and
// the audit log record (TestEveryActionHasASentence finds them in the
// code), with the sentence each must read as.
var cases = []struct {
	name   string
	r      audit.Record
	b      *Backup
	want   string // the sentence, rendered with String()
	kind   Kind
	dbName string
}{
	{"backup.started", rec("backup.started", "ok", "Shop", map[string]string{"backup_id": backupID, "origin": "manual"}, ""), nil,
		"Started a backup of Shop", KindBackups, "Shop"},
	{"backup.finished scheduled", rec("backup.finished", "ok", "Shop", map[string]string{"backup_id": backupID, "origin": "scheduled", "raw_size": "120000000", "stored_size": "34800000", "storages": "1"}, ""), shopBackup,
		"Backed up Shop: 34.8 MB to Local disk in 2 s (scheduled)", KindBackups, "Shop"},
	{"backup.finished, history unknown", rec("backup.finished", "ok", "Shop", map[string]string{"backup_id": backupID, "origin": "manual", "stored_size": "999", "storages": "2"}, ""), nil,
		"Backed up Shop: 999 B to 2 storages", KindBackups, "Shop"},
	{"backup.finished partial", rec("backup.finished", "partial", "Shop", map[string]string{"backup_id": backupID, "stored_size": "34800000", "storages": "1"}, "storage NAS: write: connection reset by peer"),
		&Backup{Started: started, Duration: 95 * time.Second, Storages: []string{"Local disk"}},
		"Backed up Shop to Local disk in 1 min 35 s, but not to every storage: storage NAS: write: connection reset by peer", KindBackups, "Shop"},
	{"backup.failed", rec("backup.failed", "failed", "Shop", map[string]string{"backup_id": backupID, "origin": "scheduled"},
		`backup of Shop: snapshot session: cannot connect to 127.0.0.1:5432/shop as "backup": the server refused the password: check the user name and password (server said: password authentication failed for user "backup")`), nil,
		"Backup of Shop failed: the server refused the password: check the user name and password (scheduled)", KindBackups, "Shop"},
	{"backup.failed by pg_dump", rec("backup.failed", "failed", "Shop", map[string]string{"backup_id": backupID},
		"pg_dump: the role cannot read table shop.secret (pg_dump said: permission denied for table secret)"), nil,
		"Backup of Shop failed: the role cannot read table shop.secret", KindBackups, "Shop"},
	{"backup.failed interrupted", rec("backup.failed", "failed", "Shop", map[string]string{"backup_id": backupID, "interrupted": "true"}, "interrupted: the process running it ended"), nil,
		"Backup of Shop was interrupted: the PgSafe process running it ended (killed, crashed or the computer restarted)", KindBackups, "Shop"},
	{"backup.verify", rec("backup.verify", "ok", "Shop", map[string]string{"backup_id": backupID}, ""), shopBackup,
		"Verified Shop's backup of 5 Dec 2026 14:02", KindChecks, "Shop"},
	{"backup.verify failed", rec("backup.verify", "failed", "Shop", map[string]string{"backup_id": backupID}, "the file was changed after it was written"), shopBackup,
		"Verification of Shop's backup of 5 Dec 2026 14:02 failed: the file was changed after it was written", KindChecks, "Shop"},
	{"backup.verify, backup unknown", rec("backup.verify", "ok", "Shop", map[string]string{"backup_id": backupID}, ""), nil,
		"Verified a backup of Shop", KindChecks, "Shop"},
	{"backup.drill", rec("backup.drill", "ok", "Shop", map[string]string{"backup_id": backupID}, ""), shopBackup,
		"Restore drill of Shop's backup of 5 Dec 2026 14:02 passed: restored and row counts compared", KindChecks, "Shop"},
	{"backup.drill failed", rec("backup.drill", "failed", "Shop", map[string]string{"backup_id": backupID}, "row counts differ: shop.orders 12 in the backup, 11 restored"), shopBackup,
		"Restore drill of Shop's backup of 5 Dec 2026 14:02 failed: row counts differ: shop.orders 12 in the backup, 11 restored", KindChecks, "Shop"},
	{"backup.restore", rec("backup.restore", "ok", "Shop", map[string]string{"backup_id": backupID}, ""), shopBackup,
		"Restored Shop's backup of 5 Dec 2026 14:02", KindRestores, "Shop"},
	{"backup.restore failed", rec("backup.restore", "failed", "Shops", map[string]string{"backup_id": backupID}, "pg_restore: the target database already exists"), shopBackup,
		"Restore of Shops' backup of 5 Dec 2026 14:02 failed: the target database already exists", KindRestores, "Shops"},
	{"backup.deleted", rec("backup.deleted", "ok", "Shop", map[string]string{"backup_id": backupID, "storage": "Local disk", "reason": "not kept by any rule"}, ""), shopBackup,
		"Removed Shop's backup of 5 Dec 2026 14:02 from Local disk (not kept by any rule)", KindBackups, "Shop"},
	{"backup.kept", rec("backup.kept", "ok", "Shop", map[string]string{"backup_id": backupID, "storage": "Vault", "reason": "not kept by any rule", "kept": "kept until 2026-12-12: the storage's lock"}, ""), shopBackup,
		"Kept Shop's backup of 5 Dec 2026 14:02 on Vault, which retention would remove (kept until 2026-12-12: the storage's lock)", KindBackups, "Shop"},
	{"backup.imported file", rec("backup.imported", "ok", "Shop", map[string]string{"backup_id": backupID, "from": "file"}, ""), nil,
		"Imported a backup of Shop from a file", KindBackups, "Shop"},
	{"backup.imported storage", rec("backup.imported", "ok", "Shop", map[string]string{"backup_id": backupID, "storage": "NAS", "storage_id": "3"}, ""), nil,
		"Imported a backup of Shop found on NAS", KindBackups, "Shop"},

	{"database.created", rec("database.created", "ok", "Shop", map[string]string{"id": "1", "checked": "true", "verdict": "read_only"}, ""), nil,
		"Added database Shop (read-only ✓)", KindSettings, "Shop"},
	{"database.created unchecked", rec("database.created", "ok", "Shop", map[string]string{"id": "1", "checked": "false"}, ""), nil,
		"Added database Shop (privileges not checked)", KindSettings, "Shop"},
	{"database.changed", rec("database.changed", "ok", "Shop", map[string]string{"id": "1", "fields": "name,password,sslmode", "renamed_from": "Store", "verdict": "read_only_with_warnings"}, ""), nil,
		"Renamed Store to Shop: password and encryption (read-only, with warnings)", KindSettings, "Shop"},
	{"database.changed timeout", rec("database.changed", "ok", "Shop", map[string]string{"fields": "timeout", "timeout": "2h30m0s"}, ""), nil,
		"Changed Shop: time limit (time limit 2 h 30 min)", KindSettings, "Shop"},
	{"db.changed storages", rec("db.changed", "ok", "Shop", map[string]string{"fields": "storage_ids", "storages": "Local disk,NAS"}, ""), nil,
		"Chose where Shop is backed up: Local disk and NAS", KindSettings, "Shop"},
	{"database.deleted", rec("database.deleted", "ok", "Shop", map[string]string{"id": "1"}, ""), nil,
		"Removed database Shop from PgSafe (its backups stay in storage)", KindSettings, "Shop"},
	{"roles.created", rec("roles.created", "ok", "admin@db2:5432/shop", map[string]string{"backup_id": "b1", "roles": "owners, readers", "login": "false"}, ""), nil,
		"Created the roles owners, readers on admin@db2:5432/shop for a restore (without passwords, unable to log in)", KindSecurity, ""},
	{"roles.created login", rec("roles.created", "ok", "admin@db2:5432/shop", map[string]string{"backup_id": "b1", "roles": "owners", "login": "true"}, ""), nil,
		"Created the roles owners on admin@db2:5432/shop for a restore (without passwords)", KindSecurity, ""},
	{"database.gone", rec("database.gone", "ok", "Production/crm", map[string]string{"id": "7", "server": "Production"}, "database crm is no longer on the server: its backups are kept"), nil,
		"Production/crm is no longer on server Production (its backups are kept)", KindSettings, "Production/crm"},
	{"database.gone excluded", rec("database.gone", "ok", "Production/crm", map[string]string{"id": "7", "server": "Production"}, "database crm is now excluded: its backups are kept"), nil,
		"Production/crm is now left out of server Production's backups (its backups are kept)", KindSettings, "Production/crm"},
	{"database.returned", rec("database.returned", "ok", "Production/crm", map[string]string{"id": "7", "server": "Production"}, "database crm is on the server again: it is backed up with it"), nil,
		"Production/crm is on server Production again and is backed up with it", KindSettings, "Production/crm"},
	{"database.checked", rec("database.checked", "ok", "Shop", map[string]string{"id": "1", "verdict": "write_access"}, ""), nil,
		"Checked what Shop's role may do: can change data ✗", KindChecks, "Shop"},
	{"database.write_access_refused", rec("database.write_access_refused", "denied", "Shop", nil, ""), nil,
		"Did not save Shop: its role can change data, and write access was not accepted", KindSecurity, "Shop"},
	{"database.write_access_accepted", rec("database.write_access_accepted", "ok", "Shop", map[string]string{"id": "1"}, "the user accepted a role that can change data"), nil,
		"Accepted that Shop's role can change data (PgSafe only needs to read)", KindSecurity, "Shop"},
	{"database.readonly_role_created", rec("database.readonly_role_created", "ok", "pgsafe_backup", map[string]string{"method": "pg_read_all_data", "verdict": "read_only"}, ""), nil,
		"Created the read-only role pgsafe_backup (read-only ✓)", KindSecurity, ""},
	{"database.readonly_role_failed", rec("database.readonly_role_failed", "failed", "pgsafe_backup", nil, "role \"pgsafe_backup\" already exists on this server: choose another name"), nil,
		"Creating the read-only role pgsafe_backup failed: role \"pgsafe_backup\" already exists on this server: choose another name", KindSecurity, ""},
	{"database.up", rec("database.up", "ok", "Shop", nil, ""), nil, "Shop answers again", KindChecks, "Shop"},
	{"database.down", rec("database.down", "failed", "Shop", nil, `cannot connect to db:5432/shop as "b": nothing listens on that host and port (dial tcp: connection refused)`), nil,
		"Shop stopped answering: nothing listens on that host and port", KindChecks, "Shop"},

	{"schedule.changed", rec("schedule.changed", "ok", "Shop", map[string]string{"fields": "kind,every", "schedule": "every 1 h 30 min", "next_run": "2026-12-05T15:30:00Z"}, ""), nil,
		"Set the schedule of Shop: every 1 h 30 min", KindSettings, "Shop"},
	{"schedule.cleared", rec("schedule.cleared", "ok", "Shop", nil, ""), nil,
		"Removed the schedule of Shop: it is no longer backed up on its own", KindSettings, "Shop"},
	{"schedule.paused until", rec("schedule.paused", "ok", "schedules", map[string]string{"until": "2026-12-05T16:00:00Z"}, ""), nil,
		"Paused scheduled backups until 5 Dec 2026 16:00", KindSettings, ""},
	{"schedule.paused", rec("schedule.paused", "ok", "schedules", map[string]string{"until": "resumed"}, ""), nil,
		"Paused scheduled backups until resumed", KindSettings, ""},
	{"schedule.resumed", rec("schedule.resumed", "ok", "schedules", nil, ""), nil, "Resumed scheduled backups", KindSettings, ""},
	{"retention.changed", rec("retention.changed", "ok", "Shop", map[string]string{"fields": "keep_last", "policy": "keep the newest 7"}, ""), nil,
		"Set which backups of Shop are kept: keep the newest 7", KindSettings, "Shop"},
	{"health_policy.changed", rec("health_policy.changed", "ok", "Shop", map[string]string{"interval_seconds": "300", "failures_before_down": "3"}, ""), nil,
		"Set the connection check of Shop: every 5 min, down after 3 failures in a row", KindSettings, "Shop"},
	{"health_policy.changed off", rec("health_policy.changed", "ok", "Shop", map[string]string{"interval_seconds": "0", "failures_before_down": "3"}, ""), nil,
		"Turned off the connection check of Shop", KindSettings, "Shop"},
	{"drill_policy.changed", rec("drill_policy.changed", "ok", "Shop", map[string]string{"every_backups": "5", "every_days": "7"}, ""), nil,
		"Set automatic restore drills for Shop: after every 5 backups, or every 7 days", KindSettings, "Shop"},
	{"drill_policy.changed off", rec("drill_policy.changed", "ok", "Shop", map[string]string{"every_backups": "0", "every_days": "0"}, ""), nil,
		"Turned off automatic restore drills for Shop", KindSettings, "Shop"},

	{"storage.created", rec("storage.created", "ok", "Local disk", map[string]string{"id": "1", "kind": "local"}, ""), nil,
		"Added storage Local disk (a folder)", KindSettings, ""},
	{"storage.deleted", rec("storage.deleted", "ok", "NAS", map[string]string{"id": "2", "kind": "sftp"}, ""), nil, "Removed storage NAS", KindSettings, ""},
	{"storage.signed_in", rec("storage.signed_in", "ok", "Drive", map[string]string{"id": "3", "kind": "gdrive"}, ""), nil, "Signed in to Google Drive again for storage Drive", KindSettings, ""},
	{"notifier.created", rec("notifier.created", "ok", "Ops", map[string]string{"id": "1", "kind": "slack"}, ""), nil,
		"Added notifications by Slack: Ops", KindSettings, ""},
	{"notifier.deleted", rec("notifier.deleted", "ok", "Ops", nil, ""), nil, "Removed notifier Ops", KindSettings, ""},
	{"notification.failed", rec("notification.failed", "failed", "Ops", map[string]string{"event": "backup.failed", "attempts": "3"}, "slack: 404 Not Found"), nil,
		"A notification through Ops could not be sent after 3 tries: slack: 404 Not Found", KindOther, ""},
	{"settings.changed drill server", rec("settings.changed", "ok", "drill server", map[string]string{"fields": "drill_server"}, ""), nil,
		"Set the server restore drills run on", KindSettings, ""},
	{"settings.changed drill server removed", rec("settings.changed", "ok", "drill server", map[string]string{"fields": "drill_server"}, "removed"), nil,
		"Removed the drill server", KindSettings, ""},
	{"settings.accepted", rec("settings.accepted", "ok", "", map[string]string{"path": "/home/u/.config/pgsafe/pgsafe.db"}, ""), nil,
		"Accepted the settings database as changed outside PgSafe", KindSettings, ""},

	{"key.created", rec("key.created", "ok", "3f9a0c1d2e4b5a69", map[string]string{"key_id": "3f9a0c1d2e4b5a69", "source": "keychain"}, ""), nil,
		"Created the master key that encrypts every backup (kept in this computer's keychain)", KindSecurity, ""},
	{"key.exported", rec("key.exported", "ok", "", map[string]string{"key_id": "3f9a0c1d2e4b5a69", "path": "/home/u/kit.txt"}, ""), nil,
		"Saved a recovery kit for the master key", KindSecurity, ""},
	{"key.imported", rec("key.imported", "ok", "3f9a0c1d2e4b5a69", map[string]string{"key_id": "3f9a0c1d2e4b5a69", "source": "recovery-kit"}, ""), nil,
		"Brought in the master key from a recovery kit", KindSecurity, ""},
	{"key.replaced", rec("key.replaced", "ok", "", map[string]string{"key_id": "3f9a0c1d2e4b5a69", "old_key_id": "aa"}, ""), nil,
		"Replaced the master key from a recovery kit (the previous key was kept aside)", KindSecurity, ""},
	{"key.source_changed", rec("key.source_changed", "ok", "", map[string]string{"key_id": "3f9a0c1d2e4b5a69", "source": "protected-key-file"}, ""), nil,
		"Moved the master key (kept in a protected key file)", KindSecurity, ""},
	{"key.kit_postponed", rec("key.kit_postponed", "ok", "3f9a0c1d2e4b5a69", map[string]string{"key_id": "3f9a0c1d2e4b5a69"}, ""), nil,
		"Chose to save a recovery kit later", KindSecurity, ""},
	{"audit.genesis", rec(audit.ActionGenesis, "ok", "", map[string]string{"store_id": "9c1e2f3a4d4e5f8a"}, ""), nil, "The activity log began", KindSecurity, ""},
	{"audit.broken", rec(audit.ActionBroken, "failed", "", map[string]string{"broken_at": "17", "kind": "changed"}, "entry 17 was changed"), nil,
		"The activity log was found changed or damaged at entry 17: entry 17 was changed", KindSecurity, ""},
	{"audit.verified", rec("audit.verified", "ok", "", nil, "intact: 120 entries"), nil, "Verified the activity log: every entry is in order", KindSecurity, ""},
	{"audit.verified broken", rec("audit.verified", "failed", "", nil, "broken at entry 17 (changed): entry 17 was changed; intact up to entry 16"), nil,
		"Verified the activity log: it is broken: broken at entry 17 (changed): entry 17 was changed; intact up to entry 16", KindSecurity, ""},
	{"app.started", rec("app.started", "ok", "", nil, ""), nil, "PgSafe started", KindOther, ""},
	{"app.stopped", rec("app.stopped", "ok", "", nil, ""), nil, "PgSafe stopped", KindOther, ""},
	{"an action a newer PgSafe wrote", rec("backup.teleported", "failed", "Shop", nil, "no portal"), nil,
		"Backup teleported: Shop (failed): no portal", KindBackups, "Shop"},
}

var (
	uuidRe   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{16}`)
	rawNumRe = regexp.MustCompile(`\d{5,}`)
	codeRe   = regexp.MustCompile(`\b[a-z]+[._][a-z_]+\b`) // an action or field name: backup.finished, read_only
)

func TestDescribe(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Describe(c.r, c.b)
			if got := s.String(); got != c.want {
				t.Errorf("sentence\n got %q\nwant %q", got, c.want)
			}
			text := s.Render(func(time.Time) string { return "" })
			if c.name != "an action a newer PgSafe wrote" {
				if m := codeRe.FindString(text); m != "" && !strings.Contains(c.r.Target, m) && !strings.Contains(c.r.Message, m) {
					t.Errorf("the sentence holds a code %q: %q", m, text)
				}
			}
			if uuidRe.MatchString(text) {
				t.Errorf("the sentence holds an id: %q", text)
			}
			if m := rawNumRe.FindString(text); m != "" {
				t.Errorf("the sentence holds a raw number %s: %q", m, text)
			}
			if strings.Contains(s.Text, WhenToken) == s.When.IsZero() {
				t.Errorf("a {when} without a time, or a time without its place: %+v", s)
			}
			if got := KindOf(c.r.Action); got != c.kind {
				t.Errorf("kind %s, want %s", got, c.kind)
			}
			if got := Database(c.r); got != c.dbName {
				t.Errorf("database %q, want %q", got, c.dbName)
			}
		})
	}
}

// TestEveryActionHasASentence reads the actions PgSafe records from its
// code (Action: "…" in the engine, the event constants of the keys, ui and
// audit packages, and "backup." + the run kinds) and checks each has a case
// above, that is, a sentence of its own rather than the fallback.
func TestEveryActionHasASentence(t *testing.T) {
	recorded := map[string]bool{}
	actionLit := regexp.MustCompile(`Action: *"([a-z_.]*[a-z_])"`)
	for _, dir := range []string{"../engine", "../keys", "../ui", "../audit"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("read %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range actionLit.FindAllStringSubmatch(string(src), -1) {
				recorded[m[1]] = true
			}
			// Constants: EventKey… = "key.…", Action… = "audit.…", eventKit… = "key.…".
			fs := token.NewFileSet()
			file, err := parser.ParseFile(fs, f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok || len(vs.Values) != 1 {
					return true
				}
				name := vs.Names[0].Name
				if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING &&
					(strings.HasPrefix(name, "EventKey") || strings.HasPrefix(name, "eventKit") || strings.HasPrefix(name, "Action")) {
					if v, err := strconv.Unquote(lit.Value); err == nil {
						recorded[v] = true
					}
				}
				return true
			})
		}
	}
	for _, kind := range []string{"verify", "drill", "restore"} { // Action: "backup." + rec.Kind
		recorded["backup."+kind] = true
	}
	recorded["database.up"], recorded["database.down"] = true, true // health.go: action, outcome := "database.up", …
	if len(recorded) < 40 {
		t.Fatalf("found only %d recorded actions: %v", len(recorded), recorded)
	}
	var covered []string
	for _, c := range cases {
		if c.name != "an action a newer PgSafe wrote" {
			covered = append(covered, c.r.Action)
		}
	}
	for a := range recorded {
		if !slices.Contains(covered, a) {
			t.Errorf("action %q is recorded but has no sentence test", a)
		}
	}
}

func TestReason(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"first line\nsecond":                  "first line",
		"pg_dump: stopped before it finished": "stopped before it finished",
		`cannot connect to h:5432/d as "u": the server's certificate could not be verified (x509: expired)`: "the server's certificate could not be verified",
		"storage NAS: write failed": "storage NAS: write failed",
	} {
		if got := Reason(in); got != want {
			t.Errorf("Reason(%q) = %q, want %q", in, got, want)
		}
	}
}
