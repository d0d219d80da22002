package pgtools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

func TestListAndRestore(t *testing.T) {
	pg := testenv.Postgres(t)
	in := client15(t)
	pg.CreateDB(t, "src")
	pg.Exec(t, "src", `
		CREATE EXTENSION hstore;
		COMMENT ON EXTENSION hstore IS 'key/value';
		CREATE SCHEMA "odd schema";
		CREATE TABLE "odd schema"."my table" (id int, h hstore);
		INSERT INTO "odd schema"."my table" VALUES (1, 'a=>1'), (2, 'b=>2');
		CREATE TABLE public.plain (id serial PRIMARY KEY);
		INSERT INTO public.plain DEFAULT VALUES;`)
	su := Conn{Host: pg.Host, Port: pg.Port, Database: "src", User: pg.User, Password: pg.Password, SSLMode: "disable"}
	archive, err := dumpAll(t, in.PgDump, su, DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	toc, err := List(context.Background(), in.PgRestore, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(toc.Tables(), ","); got != "odd.schema my table,public.plain" {
		t.Errorf("Tables() = %q", got) // names with spaces split wrongly, as documented
	}
	for _, tb := range [][2]string{{"odd schema", "my table"}, {"public", "plain"}} {
		if !toc.HasTableData(tb[0], tb[1]) {
			t.Errorf("HasTableData(%q, %q) = false", tb[0], tb[1])
		}
	}
	if toc.HasTableData("public", "pla") || toc.HasTableData("odd", "schema") {
		t.Error("HasTableData matched a prefix of a name")
	}
	if toc.Database != "src" || toc.DumpedFrom.Major != 15 || toc.DumpedBy.Major != 15 {
		t.Errorf("TOC header %+v", toc)
	}

	t.Run("damaged archive", func(t *testing.T) {
		cut := archive[:len(archive)/2]
		if _, err := List(context.Background(), in.PgRestore, bytes.NewReader(cut)); err == nil {
			t.Fatal("a truncated archive listed fine")
		}
	})

	t.Run("stream restore", func(t *testing.T) {
		pg.CreateDB(t, "copy1")
		w := su
		w.Database, w.AllowWrite = "copy1", true
		var items int
		res, err := Restore(context.Background(), in.PgRestore, w, bytes.NewReader(archive), "", RestoreOptions{NoOwner: true, OnItem: func(string) { items++ }})
		if err != nil {
			t.Fatalf("restore: %v (%+v)", err, res)
		}
		if res.IgnoredErrors != 0 || items == 0 {
			t.Fatalf("result %+v, %d items", res, items)
		}
		var n int
		if err := pg.Conn(t, "copy1").QueryRow(context.Background(), `SELECT count(*) FROM "odd schema"."my table"`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("restored rows: %d, %v", n, err)
		}
	})

	t.Run("parallel from a file without an extension", func(t *testing.T) {
		pg.CreateDB(t, "copy2")
		pg.Exec(t, "copy2", "CREATE EXTENSION hstore") // as a managed service would pre-install it
		file := filepath.Join(t.TempDir(), "a.dump")
		if err := os.WriteFile(file, archive, 0o600); err != nil {
			t.Fatal(err)
		}
		w := su
		w.Database, w.AllowWrite = "copy2", true
		res, err := Restore(context.Background(), in.PgRestore, w, nil, file, RestoreOptions{Jobs: 2, ExcludeExtensions: []string{"hstore"}, ExitOnError: true})
		if err != nil {
			t.Fatalf("restore: %v (%+v)", err, res)
		}
	})

	t.Run("read-only connection refused", func(t *testing.T) {
		if _, err := Restore(context.Background(), in.PgRestore, su, bytes.NewReader(archive), "", RestoreOptions{}); err == nil {
			t.Fatal("restore through a read-only connection was started")
		}
	})

	t.Run("entries lost to a deadlock restored again", func(t *testing.T) {
		ctx := context.Background()
		pg.CreateDB(t, "parts")
		pg.Exec(t, "parts", `
			CREATE TABLE p (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
			CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY HASH (id);
			CREATE TABLE p1a PARTITION OF p1 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
			CREATE TABLE p1b PARTITION OF p1 FOR VALUES WITH (MODULUS 2, REMAINDER 1);`)
		c := su
		c.Database = "parts"
		parts, err := dumpAll(t, in.PgDump, c, DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "parts.dump")
		if err := os.WriteFile(file, parts, 0o600); err != nil {
			t.Fatal(err)
		}
		toc, err := List(ctx, in.PgRestore, bytes.NewReader(parts))
		if err != nil {
			t.Fatal(err)
		}
		// Restore everything but the attach of p1b's index, as a parallel
		// restore whose attach lost a deadlock leaves it.
		lost := -1
		var list strings.Builder
		for _, e := range toc.Entries {
			if e.Desc == "INDEX ATTACH" && e.Name == "p1b_pkey" {
				lost = e.ID
				continue
			}
			list.WriteString(e.line + "\n")
		}
		if lost < 0 {
			t.Fatalf("no INDEX ATTACH p1b_pkey in %+v", toc.Entries)
		}
		listFile := filepath.Join(t.TempDir(), "list")
		os.WriteFile(listFile, []byte(list.String()), 0o600)
		pg.CreateDB(t, "parts_copy")
		cmd := exec.Command(in.PgRestore, "--exit-on-error", "-L", listFile, "-d", "parts_copy", file)
		cmd.Env = append(os.Environ(), pg.Environ()...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pg_restore -L: %v\n%s", err, out)
		}
		valid := func() bool {
			var ok bool
			if err := pg.Conn(t, "parts_copy").QueryRow(ctx, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'p_pkey'::regclass").Scan(&ok); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if valid() {
			t.Fatal("p_pkey is valid without the attach of p1b_pkey")
		}

		// What pg_restore 15 printed when that happened (other jobs' lines
		// in between).
		f := &failedEntries{}
		for _, l := range []string{
			fmt.Sprintf("pg_restore: launching item %d INDEX ATTACH p1b_pkey", lost),
			fmt.Sprintf("pg_restore: from TOC entry %d; 0 0 INDEX ATTACH p1b_pkey postgres", lost),
			`pg_restore: creating FK CONSTRAINT "public.q q_fkey"`,
			"pg_restore: error: could not execute query: ERROR:  deadlock detected",
			"DETAIL:  Process 14831 waits for AccessExclusiveLock on relation 20954 of database 20716; blocked by process 14832.",
			"Command was: ALTER INDEX public.p1_pkey ATTACH PARTITION public.p1b_pkey;",
			"pg_restore: warning: errors ignored on restore: 2",
		} {
			f.add(l)
		}
		if !f.onlyDeadlocks() || len(f.ids) != 1 || f.ids[0] != lost {
			t.Fatalf("failed entries %+v, want only %d, deadlocked", f, lost)
		}
		w := su
		w.Database, w.AllowWrite = "parts_copy", true
		retried, ok := retryDeadlocked(ctx, in.PgRestore, w, file, f.ids, RestoreOptions{Jobs: 2})
		if !ok || len(retried) != 1 || !strings.Contains(retried[0], "INDEX ATTACH public p1b_pkey") {
			t.Fatalf("retryDeadlocked = %q, %v", retried, ok)
		}
		if !valid() {
			t.Fatal("p_pkey is still invalid after the retry")
		}
		// A retry that fails (the constraint exists) is not taken for success.
		pkey := -1
		for _, e := range toc.Entries {
			if e.Desc == "CONSTRAINT" && e.Name == "p1b p1b_pkey" {
				pkey = e.ID
			}
		}
		if _, ok := retryDeadlocked(ctx, in.PgRestore, w, file, []int{pkey}, RestoreOptions{}); pkey < 0 || ok {
			t.Fatalf("a retry that failed (entry %d) reported success", pkey)
		}
		if _, ok := retryDeadlocked(ctx, in.PgRestore, w, file, []int{99999}, RestoreOptions{}); ok {
			t.Fatal("a retry of an entry the archive does not have reported success")
		}

		// Any other error, or an error not tied to an entry: no retry.
		for _, lines := range [][]string{
			{"pg_restore: from TOC entry 12; 0 0 INDEX ATTACH p1b_pkey postgres", `pg_restore: error: could not execute query: ERROR:  relation "x" already exists`},
			{"pg_restore: error: could not execute query: ERROR:  deadlock detected"},
			{"pg_restore: from TOC entry 12; 0 0 INDEX ATTACH p1b_pkey postgres", "pg_restore: error: could not execute query: ERROR:  deadlock detected",
				"pg_restore: from TOC entry 13; 0 0 INDEX ATTACH p1a_pkey postgres", "pg_restore: error: could not execute query: ERROR:  out of memory"},
		} {
			g := &failedEntries{}
			for _, l := range lines {
				g.add(l)
			}
			if g.onlyDeadlocks() {
				t.Errorf("%q taken for deadlocks only", lines)
			}
		}
	})

	t.Run("errors counted", func(t *testing.T) {
		w := su
		w.Database, w.AllowWrite = "copy1", true // already restored: everything exists
		res, err := Restore(context.Background(), in.PgRestore, w, bytes.NewReader(archive), "", RestoreOptions{})
		if err != nil {
			t.Fatalf("restore over existing objects: %v", err)
		}
		if res.IgnoredErrors == 0 || len(res.Warnings) == 0 {
			t.Fatalf("restore over existing objects reported %+v", res)
		}
	})
}
