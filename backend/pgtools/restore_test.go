package pgtools

import (
	"bytes"
	"context"
	"os"
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
