package backup

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/pgarchive"
)

// countRows on a real pg_dump archive (pgarchive's testdata: public.lines 3
// rows, public.empty 0, "Bücher ✓"."x ""y""" 2): a listed table the archive
// holds no data of is not counted and says so in the log; the row-count
// setting leaves tables out; an archive cut short counts nothing.
func TestCountRows(t *testing.T) {
	archive, err := os.ReadFile("../pgarchive/testdata/pg15-pgdump15.dump")
	if err != nil {
		t.Fatal(err)
	}
	read := func(b []byte) *pgarchive.Counter {
		c := pgarchive.NewCounter()
		c.Write(b)
		return c
	}
	list := func() []TableCount {
		return []TableCount{{Schema: "Bücher ✓", Name: `x "y"`}, {Schema: "public", Name: "empty"}, {Schema: "public", Name: "lines"}}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	tables := list()
	if all := countRows(tables, read(archive), nil, log); !all {
		t.Fatalf("not all counted: %+v", tables)
	}
	if want := []TableCount{{"Bücher ✓", `x "y"`, 2, true}, {"public", "empty", 0, true}, {"public", "lines", 3, true}}; !equalTables(tables, want) {
		t.Fatalf("%+v", tables)
	}

	tables = append(list(), TableCount{Schema: "public", Name: "ghost"})
	if all := countRows(tables, read(archive), func(s, n string) bool { return n != "lines" }, log); all {
		t.Fatal("all counted")
	}
	if want := []TableCount{{"Bücher ✓", `x "y"`, 2, true}, {"public", "empty", 0, true}, {"public", "lines", 0, false}, {"public", "ghost", 0, false}}; !equalTables(tables, want) {
		t.Fatalf("%+v", tables)
	}
	if !strings.Contains(logs.String(), "public.ghost") || strings.Contains(logs.String(), "public.lines") {
		t.Fatalf("log: %s", logs.String())
	}

	tables = list()
	if all := countRows(tables, read(archive[:len(archive)-1]), nil, log); all {
		t.Fatal("a cut archive counted")
	}
	for _, tb := range tables {
		if tb.Counted {
			t.Fatalf("%+v counted from a cut archive", tb)
		}
	}
	if !strings.Contains(logs.String(), "could not be read") {
		t.Fatalf("log: %s", logs.String())
	}
}

func equalTables(a, b []TableCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
