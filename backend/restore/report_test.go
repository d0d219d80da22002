package restore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// TestRestoreReports checks what a restore tells the user: progress in
// bytes of the stored file read, growing to its size, streamed and
// parallel; the restored rows compared with the backup's recorded counts;
// and pg_restore's errors in sentences.
func TestRestoreReports(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kr := keys.Keys{f.key}
	to := func(db string) pgtools.Conn { c := f.writeSU; c.Database = db; return c }
	if !f.m.RowsCounted || len(f.m.Tables) != 3 {
		t.Fatalf("the fixture backup recorded no row counts: %+v", f.m.Tables)
	}

	for _, tc := range []struct {
		name   string
		jobs   int
		phases string
		// the phase in which the stored file is read
		reading string
	}{
		{"streamed", 1, "checking,restoring,counting,done", "restoring"},
		{"parallel", 2, "checking,decrypting,restoring,counting,done", "decrypting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []Progress
			db := "shop_progress_" + tc.name
			res, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, to(db), Options{Mode: ModeNew, NoOwner: true, Jobs: tc.jobs, TempDir: t.TempDir(),
				Progress: func(p Progress) { seen = append(seen, p) }})
			if err != nil {
				t.Fatal(err)
			}
			var phases []string
			var reads []int64
			for _, p := range seen {
				if p.Total != f.m.StoredSize {
					t.Fatalf("progress %+v: total is not the stored size %d", p, f.m.StoredSize)
				}
				if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
					phases = append(phases, p.Phase)
				}
				if p.Phase == tc.reading && (len(reads) == 0 || reads[len(reads)-1] != p.ReadBytes) {
					reads = append(reads, p.ReadBytes)
				}
			}
			if got := strings.Join(phases, ","); got != tc.phases {
				t.Errorf("phases %s, want %s", got, tc.phases)
			}
			// The fixture's file has 3+ chunks: the count is seen growing, never back, up to the whole file.
			if len(reads) < 3 || reads[len(reads)-1] != f.m.StoredSize {
				t.Fatalf("read bytes while %s: %v, want several steps up to %d", tc.reading, reads, f.m.StoredSize)
			}
			for i := 1; i < len(reads); i++ {
				if reads[i] < reads[i-1] {
					t.Fatalf("read bytes went back: %v", reads)
				}
			}
			if last := seen[len(seen)-1]; last.Phase != "done" || last.ReadBytes != f.m.StoredSize {
				t.Fatalf("last progress %+v", last)
			}
			if !res.Rows.Match() || res.Rows.Tables != 3 || res.Rows.Uncounted != 0 {
				t.Fatalf("row check of a faithful restore: %+v", res.Rows)
			}
		})
	}

	t.Run("counts differ from the recorded ones", func(t *testing.T) {
		// A manifest recording one more customer than the archive holds:
		// the restore reports the difference (as a drill would) and still succeeds.
		m := *f.m
		m.Tables = append([]backup.TableCount(nil), f.m.Tables...)
		for i := range m.Tables {
			if m.Tables[i].Name == "customers" {
				m.Tables[i].Rows++
			}
		}
		res, err := Restore(ctx, f.store, &m, kr, f.client.PgRestore, to("shop_counts_differ"), Options{Mode: ModeNew, NoOwner: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows.Match() || len(res.Rows.Diffs) != 1 || res.Rows.Diffs[0] != (RowDiff{Table: "public.customers", Want: 501, Got: 500}) {
			t.Fatalf("row check: %+v", res.Rows)
		}
	})

	t.Run("no recorded counts", func(t *testing.T) {
		m := *f.m
		m.RowsCounted = false
		m.Tables = append([]backup.TableCount(nil), f.m.Tables...)
		for i := range m.Tables {
			m.Tables[i].Counted, m.Tables[i].Rows = false, 0
		}
		res, err := Restore(ctx, f.store, &m, kr, f.client.PgRestore, to("shop_uncounted"), Options{Mode: ModeNew, NoOwner: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows.Recorded || res.Rows.Match() || res.Rows.Uncounted != 3 || len(res.Rows.Diffs) != 0 {
			t.Fatalf("row check without recorded counts: %+v", res.Rows)
		}
	})

	t.Run("errors in words", func(t *testing.T) {
		// A database whose backup names roles and an extension the
		// restoring role cannot reproduce: owned by app_owner, granted to
		// reporting (dropped after the backup), with pg_stat_statements
		// (only a superuser may create it).
		f.pg.CreateDB(t, "crm")
		f.pg.Exec(t, "postgres", `CREATE ROLE app_owner; CREATE ROLE reporting; CREATE ROLE restorer LOGIN CREATEDB PASSWORD 'restorer-pw-5'`)
		f.pg.Exec(t, "crm", `CREATE EXTENSION pg_stat_statements;
			CREATE TABLE leads (id int PRIMARY KEY); INSERT INTO leads SELECT generate_series(1, 40);
			ALTER TABLE leads OWNER TO app_owner; GRANT SELECT ON leads TO reporting;`)
		crm := backUpDB(t, f.pg, "crm", f.key, pgtools.Discover(ctx))
		f.pg.Exec(t, "crm", `DROP OWNED BY reporting`)
		f.pg.Exec(t, "postgres", `DROP ROLE reporting`)
		restorer := pgtools.Conn{Host: f.pg.Host, Port: f.pg.Port, Database: "crm_restored", User: "restorer", Password: "restorer-pw-5", SSLMode: "disable", AllowWrite: true}
		// Before anything is written, the roles check says what is wrong and
		// what can be done, in words.
		_, err := Restore(ctx, crm.store, crm.m, kr, f.client.PgRestore, restorer, Options{Mode: ModeNew})
		var rp *RolesProblem
		if !errors.As(err, &rp) || !slices.Equal(rp.Missing, []string{"reporting"}) || !slices.Equal(rp.Creatable, []string{"reporting"}) ||
			!slices.Equal(rp.CannotOwn, []string{"app_owner"}) || rp.RestoringRole != "restorer" {
			t.Fatalf("Restore = %v (%+v), want a roles problem", err, rp)
		}
		if msg := err.Error(); msg != "1 role the backup needs is missing on the target server: reporting; "+
			"the restoring role restorer is not a superuser nor a member of app_owner, so it cannot give objects to it. Nothing was written. "+
			"Choose: create them from the roles saved with the backup (without passwords, unable to log in), or give their objects to roles that exist, "+
			"or restore without owners and privileges, or restore as a superuser." {
			t.Errorf("words: %s", msg)
		}
		if dbs := f.databases(t, "crm_restored"); len(dbs) != 0 {
			t.Fatalf("a refused restore created %v", dbs)
		}
		res, err := Restore(ctx, crm.store, crm.m, kr, f.client.PgRestore, restorer, Options{Mode: ModeNew, NoOwner: true, NoPrivileges: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.IgnoredErrors != 2 || len(res.Warnings) < 4 {
			t.Fatalf("pg_restore's problems: %d, %q", res.IgnoredErrors, res.Warnings)
		}
		want := []struct{ code, words string }{
			{"extension_denied", "1 extension could not be created: pg_stat_statements (the restoring role may not create it; a superuser can)."},
		}
		if len(res.Notes) != len(want) {
			t.Fatalf("notes: %+v", res.Notes)
		}
		for i, w := range want {
			if n := res.Notes[i]; n.Code != w.code || n.Message != w.words || len(n.Lines) < 2 {
				t.Errorf("note %d = %+v, want %s: %q", i, n, w.code, w.words)
			}
		}
		// The extension's comment failed with it: one problem, both lines kept.
		if l := res.Notes[0].Lines; len(l) != 4 || !strings.Contains(l[3], `extension "pg_stat_statements" does not exist`) {
			t.Errorf("the extension note's lines: %q", l)
		}
		if !res.Rows.Match() || res.Rows.Tables != 1 {
			t.Errorf("rows of crm: %+v", res.Rows)
		}
	})

	t.Run("owners kept or refused, when the role is not a superuser", func(t *testing.T) {
		restorer := pgtools.Conn{Host: f.pg.Host, Port: f.pg.Port, Database: "shop_by_restorer", User: "restorer", Password: "restorer-pw-5", SSLMode: "disable", AllowWrite: true}
		_, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, restorer, Options{Mode: ModeNew})
		var rp *RolesProblem
		if !errors.As(err, &rp) || !slices.Equal(rp.CannotOwn, []string{f.pg.User}) || len(rp.Missing) != 0 {
			t.Fatalf("Restore as a non-superuser = %v (%+v); want the owners it cannot set", err, rp)
		}
		res, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, restorer, Options{Mode: ModeNew, NoOwner: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.NoOwner || !res.Rows.Match() {
			t.Fatalf("restore without owners: %+v", res)
		}
	})
}

func TestSummarize(t *testing.T) {
	warnings := []string{
		"pg_restore: from TOC entry 2; 3079 16385 EXTENSION pg_trgm (no owner)",
		`pg_restore: error: could not execute query: ERROR:  extension "pg_trgm" is not available`,
		"pg_restore: from TOC entry 3; 3079 16386 EXTENSION postgis (no owner)",
		`pg_restore: error: could not execute query: ERROR:  could not open extension control file "/usr/share/postgresql/15/extension/postgis.control": No such file or directory`,
		"pg_restore: from TOC entry 3360; 0 0 COMMENT EXTENSION postgis ",
		`pg_restore: error: could not execute query: ERROR:  extension "postgis" does not exist`,
		"pg_restore: from TOC entry 6; 2615 2200 SCHEMA public pg_database_owner",
		`pg_restore: error: could not execute query: ERROR:  schema "public" already exists`,
		"pg_restore: from TOC entry 9; 0 0 COMMENT EXTENSION plpgsql ",
		"pg_restore: error: could not execute query: ERROR:  must be owner of extension plpgsql",
		"pg_restore: error: could not execute query: ERROR:  syntax error at or near \"GENERATED\"",
		"pg_restore: warning: errors ignored on restore: 9",
	}
	notes := summarize(warnings, 9, []string{"3447; 2606 16500 FK CONSTRAINT public orders orders_customer_fkey app"}, true)
	want := []struct{ code, severity, words string }{
		{"owners_not_kept", "info", "Owners were not kept: the restoring role is not a superuser, so every restored object belongs to it."},
		{"extension_missing", "warning", "2 extensions could not be created: pg_trgm, postgis (not installed on the target server). Objects that use them may be missing too."},
		{"already_exists", "info", `1 object already existed in the target and was kept as it was (the first: schema "public" already exists).`},
		{"permission_denied", "warning", "1 statement was refused for lack of privileges (the first: must be owner of extension plpgsql)."},
		{"other", "warning", `1 other problem (the first: syntax error at or near "GENERATED").`},
		{"more_errors", "warning", "pg_restore counted 9 errors; only the first are listed."},
		{"retried", "info", "1 item lost to a deadlock between the parallel jobs was restored again one at a time: nothing is missing."},
	}
	if len(notes) != len(want) {
		t.Fatalf("notes: %+v", notes)
	}
	for i, w := range want {
		if n := notes[i]; n.Code != w.code || n.Severity != w.severity || n.Message != w.words {
			t.Errorf("note %d = %+v\nwant %s %s: %q", i, n, w.code, w.severity, w.words)
		}
	}
	if len(notes[1].Lines) != 6 {
		t.Errorf("the missing extensions' lines: %q", notes[1].Lines)
	}
	if notes := summarize(nil, 0, nil, false); len(notes) != 0 {
		t.Errorf("a clean restore has notes: %+v", notes)
	}
}
