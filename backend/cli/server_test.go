package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// TestServerEntryCommands: `db add --all-databases --exclude`, `backup`
// of the server (one line per database, new ones said so), `db list` with
// the databases under the server, a dropped database reported, `db set
// --parallel`, `status` covering each, `backups` of one database.
func TestServerEntryCommands(t *testing.T) {
	p := testenv.Postgres(t)
	for _, db := range []string{"app", "crm", "scratch"} {
		p.CreateDB(t, db)
		p.Exec(t, db, `CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3);`)
	}
	p.Exec(t, "postgres", `CREATE ROLE reader LOGIN PASSWORD 'reader-pw-5150'; GRANT pg_read_all_data TO reader;`)
	newMachine(t)
	folder := t.TempDir()
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if strings.Contains(out+errOut, "reader-pw-5150") || strings.Contains(out+errOut, p.Password) {
			t.Fatalf("pgsafe %s printed a password", strings.Join(args, " "))
		}
		return out + errOut
	}
	run(0, "key", "init")
	run(0, "storage", "add", "local", "--name", "nas", "--path", folder)
	if out := run(1, "db", "add", "--name", "prod", "--url", roleURL(p, "postgres", "reader", "reader-pw-5150"), "--exclude", "scratch"); !strings.Contains(out, "--all-databases") {
		t.Fatalf("--exclude without --all-databases: %s", out)
	}
	out := run(0, "db", "add", "--name", "prod", "--url", roleURL(p, "postgres", "reader", "reader-pw-5150"), "--storage", "nas",
		"--all-databases", "--exclude", "scratch", "--exclude", "postgres")
	if !strings.Contains(out, "backed up as prod/DATABASE") {
		t.Fatalf("db add: %s", out)
	}
	out = run(0, "backup", "prod")
	for _, want := range []string{"prod/app: backup ", "prod/crm: backup ", "(new database, included)", "2 of 2 databases backed up"} {
		if !strings.Contains(out, want) {
			t.Fatalf("backup prod: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "scratch") {
		t.Fatalf("the excluded database was backed up:\n%s", out)
	}
	out = run(0, "db", "list")
	if !strings.Contains(out, "(all databases but scratch, postgres)") || !strings.Contains(out, "  prod/app") || !strings.Contains(out, "database crm") {
		t.Fatalf("db list:\n%s", out)
	}

	p.Exec(t, "postgres", `DROP DATABASE crm`)
	run(0, "db", "set", "prod", "--parallel", "2")
	code, jsonOut, _ := runIn(t, "", "backup", "prod", "--json")
	var res struct {
		Status    string
		Databases []struct {
			Database, Status string
			New              bool
		}
		Gone []string
	}
	if err := json.Unmarshal([]byte(jsonOut), &res); code != 0 || err != nil || res.Status != "succeeded" || len(res.Databases) != 1 ||
		res.Databases[0].Database != "app" || res.Databases[0].New || len(res.Gone) != 1 || res.Gone[0] != "crm" {
		t.Fatalf("backup prod --json: exit %d, %v\n%s", code, err, jsonOut)
	}
	if out := run(0, "db", "list"); !strings.Contains(out, "database crm (no longer on the server; backups kept)") {
		t.Fatalf("db list after crm was dropped:\n%s", out)
	}
	if out := run(0, "backups", "prod/crm"); !strings.Contains(out, "succeeded") {
		t.Fatalf("backups prod/crm:\n%s", out)
	}
	if out := run(1, "db", "set", "prod/app", "--storage", "nas"); !strings.Contains(out, "server entry") {
		t.Fatalf("db set of a server's database: %s", out)
	}
	// The newest run restores into an empty server: app only, row-checked.
	p2 := testenv.Postgres(t)
	out = run(0, "restore", "latest", "--db", "prod", "--to", p2.URL("postgres"))
	if !strings.Contains(out, "app: restored from backup") || !strings.Contains(out, "row counts match") || !strings.Contains(out, "1 databases restored") {
		t.Fatalf("restore of the server:\n%s", out)
	}
	var n int
	if err := p2.Conn(t, "app").QueryRow(t.Context(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("app restored with %d rows (%v)", n, err)
	}
	if out := run(1, "restore", "latest", "--db", "prod", "--to", p2.URL("postgres"), "--only", "app"); !strings.Contains(out, "already has app") {
		t.Fatalf("restore over an existing database: %s", out)
	}

	// Never verified and gone: attention (exit 6), each database listed.
	out = run(6, "status")
	for _, want := range []string{"prod/app", "prod/crm", "no longer on the server"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status: no %q in\n%s", want, out)
		}
	}
}
