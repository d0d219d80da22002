package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// `pgsafe status` over a database's life with a real server: unprotected
// before any backup, attention until verified, protected, then failing once
// the role's password changed on the server; each with its exit code and
// its reasons, and whether a recovery kit was exported.
func TestStatusCommand(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int PRIMARY KEY);
		INSERT INTO items SELECT generate_series(1, 500);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-5151'; GRANT SELECT ON items TO reader;`)
	newMachine(t)
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	type reason struct{ Code, Severity, Message, Action string }
	type db struct {
		Name, State string
		LastGood    *string `json:"last_good_backup"`
		LastBackup  *struct {
			Status, Error string
		} `json:"last_backup"`
		Reasons []reason
	}
	status := func(want int) (db, bool) {
		t.Helper()
		var s struct {
			Databases []db
			Kit       bool `json:"recovery_kit_exported"`
		}
		out := run(want, "status", "--json")
		if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Databases) != 1 {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		return s.Databases[0], s.Kit
	}

	run(0, "key", "init")
	run(0, "storage", "add", "local", "--name", "nas", "--path", t.TempDir())
	run(0, "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-5151"), "--storage", "nas")

	d, kit := status(exitStatusFailing)
	if d.State != "unprotected" || d.LastGood != nil || d.LastBackup != nil || len(d.Reasons) != 2 ||
		d.Reasons[0].Code != "no_backup" || d.Reasons[1].Code != "no_recovery_kit" || kit {
		t.Fatalf("before any backup and kit: %+v, kit %v", d, kit)
	}
	if out := run(exitStatusFailing, "status"); !strings.Contains(out, "no recovery kit") {
		t.Fatalf("status without a kit: %s", out)
	}
	run(0, "key", "export", "--out", filepath.Join(t.TempDir(), "kit.txt"), "--generate-passphrase")
	if d, kit = status(exitStatusFailing); !kit || len(d.Reasons) != 1 || d.Reasons[0].Code != "no_backup" {
		t.Fatalf("a recovery kit was exported: %+v, kit %v", d, kit)
	}
	run(0, "backup", "shop")
	if d, _ = status(exitStatusAttention); d.State != "attention" || d.LastGood == nil || d.Reasons[0].Code != "never_verified" {
		t.Fatalf("backed up, never verified: %+v", d)
	}
	run(0, "verify", "latest", "--db", "shop")
	if d, _ = status(0); d.State != "protected" || len(d.Reasons) != 0 {
		t.Fatalf("backed up and verified: %+v", d)
	}
	if out := run(0, "status"); !strings.Contains(out, "shop") || !strings.Contains(out, "protected") || strings.Contains(out, "no recovery kit") {
		t.Fatalf("status: %s", out)
	}

	// The role's password changed on the server: the next backup fails, and
	// the status says so, first, with the reason in words.
	p.Exec(t, "shop", `ALTER ROLE reader PASSWORD 'a-new-password-99'`)
	run(1, "backup", "shop")
	d, _ = status(exitStatusFailing)
	if d.State != "failing" || d.LastGood == nil || d.LastBackup == nil || d.LastBackup.Status != "failed" {
		t.Fatalf("after a failed backup: %+v", d)
	}
	if r := d.Reasons[0]; r.Code != "backup_failed" || r.Severity != "failing" || !strings.Contains(r.Message, "password") || r.Action == "" {
		t.Fatalf("the first reason after a failed backup: %+v", r)
	}
	run(exitStatusFailing, "status", "shop")
	run(1, "status", "nosuchdb")
}
