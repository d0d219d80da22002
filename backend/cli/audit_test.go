package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestAuditCommands(t *testing.T) {
	p := testenv.Postgres(t)
	p.Exec(t, "postgres", "CREATE ROLE reader LOGIN PASSWORD 'audit-pw-1'")
	home := newMachine(t)
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	run(0, "", "key", "init")
	run(0, "", "db", "add", "--name", "audited-db", "--url", roleURL(p, "postgres", "reader", "audit-pw-1"))
	run(0, kitPass+"\n", "key", "export", "--out", filepath.Join(t.TempDir(), "kit"), "--passphrase-stdin")
	out := run(0, "", "audit", "verify")
	if !strings.Contains(out, "intact: 3 entries") { // the genesis entry, then the two actions
		t.Fatalf("audit verify: %s", out)
	}
	out = run(0, "", "audit", "export", "--format", "json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 4 {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if recs[0]["action"] != "audit.genesis" || recs[1]["action"] != "database.created" || recs[1]["target"] != "audited-db" ||
		recs[2]["action"] != keys.EventKeyExported || recs[3]["action"] != "audit.verified" {
		t.Fatalf("exported entries: %s", out)
	}
	if out := run(0, "", "audit", "export", "--format", "csv"); strings.Count(out, "\n") != 5 || strings.Contains(out, "audit-pw-1") {
		t.Fatalf("csv: %s", out)
	}

	// Delete the newest entries behind PgSafe's back: verify fails and says
	// where (the engine's check at open found and recorded the break first),
	// and keeps saying so after other commands appended entries.
	db, err := sql.Open("sqlite", filepath.Join(home, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "DELETE FROM audit_log WHERE seq >= 3"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out = run(exitAuditBroken, "", "audit", "verify")
	if !strings.Contains(out, "broken at entry 3") || !strings.Contains(out, "deleted") {
		t.Fatalf("verify after deleting entries: %s", out)
	}
	run(0, kitPass+"\n", "key", "export", "--out", filepath.Join(t.TempDir(), "kit2"), "--passphrase-stdin")
	out = run(exitAuditBroken, "", "audit", "verify")
	if !strings.Contains(out, "broken at entry 3 (missing_tail)") {
		t.Fatalf("verify after more entries: %s", out)
	}
}
