package pgarchive

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// archive builds custom-format archives the way pg_dump writes them
// (WriteHead, WriteToc, _StartData/_EndData of pg_backup_archiver.c and
// pg_backup_custom.c), for the archive versions this machine's pg_dump 15
// does not write: 1.15 (PostgreSQL 16) and 1.16 (17).
type archive struct {
	minor int
	b     bytes.Buffer
}

func (a *archive) int(v int) {
	sign := byte(0)
	if v < 0 {
		sign, v = 1, -v
	}
	a.b.WriteByte(sign)
	for i := 0; i < 4; i++ {
		a.b.WriteByte(byte(v >> (8 * i)))
	}
}

func (a *archive) str(s string) { a.int(len(s)); a.b.WriteString(s) }
func (a *archive) null()        { a.int(-1) }

type synthEntry struct {
	id                   int
	desc, ns, tag, copy_ string
}

func (a *archive) head(compression int, entries []synthEntry) {
	a.b.WriteString("PGDMP")
	a.b.Write([]byte{1, byte(a.minor), 0, 4, 8, 1})
	if a.minor >= 15 {
		a.b.WriteByte(byte(compression))
	} else {
		a.int(compression)
	}
	for _, v := range []int{1, 2, 3, 6, 11, 126, 0} {
		a.int(v)
	}
	a.str("db")
	a.str("17.10")
	a.str("17.10")
	a.int(len(entries))
	for _, e := range entries {
		a.int(e.id)
		a.int(1)
		a.str("1259")
		a.str("16384")
		a.str(e.tag)
		a.str(e.desc)
		a.int(3)  // section
		a.str("") // defn
		a.str("") // dropStmt
		a.str(e.copy_)
		a.str(e.ns)
		a.str("") // tablespace
		if a.minor >= 14 {
			a.str("heap")
		}
		if a.minor >= 16 {
			a.int('r')
		}
		a.str("postgres")
		a.str("false")
		a.str("12")
		a.str("7")
		a.null()
		a.b.WriteByte(1) // K_OFFSET_POS_NOT_SET
		a.b.Write(make([]byte, 8))
	}
}

// data writes a table data block, one chunk per string.
func (a *archive) data(id int, chunks ...string) {
	a.b.WriteByte(blockData)
	a.int(id)
	for _, c := range chunks {
		a.str(c)
	}
	a.int(0)
}

func (a *archive) blobs(id int, objects ...string) {
	a.b.WriteByte(blockBlobs)
	a.int(id)
	for i, o := range objects {
		a.int(1000 + i)
		a.str(o)
		a.int(0)
	}
	a.int(0)
}

func synthArchive(minor, compression int) []byte {
	a := &archive{minor: minor}
	a.head(compression, []synthEntry{
		{id: 5, desc: "TABLE", ns: "public", tag: "t"},
		{id: 20, desc: "TABLE DATA", ns: "public", tag: "t", copy_: "COPY public.t (a) FROM stdin;\n"},
		{id: 21, desc: "TABLE DATA", ns: "Bücher ✓", tag: `a "b"`, copy_: "COPY x FROM stdin;\n"},
		{id: 22, desc: "TABLE DATA", ns: "public", tag: "empty", copy_: "COPY e FROM stdin;\n"},
		{id: 23, desc: "TABLE DATA", ns: "public", tag: "inserts", copy_: ""},
		{id: 24, desc: "TABLE DATA", ns: "public", tag: "nodata", copy_: "COPY n FROM stdin;\n"},
		{id: 30, desc: "BLOBS", tag: "BLOBS"},
	})
	a.data(20, "1\tx\n", "2\t\\\\\n", "3\ta\\nb", "\n", "\\N\t\n", "\\.\n\n\n")
	a.blobs(30, "\n\n\n", "x")
	a.data(21, "\n", "\\.\n")
	a.data(22, "\\.\n\n\n")
	a.data(23, "INSERT INTO inserts VALUES (1);\n")
	return a.b.Bytes()
}

// Archives of versions 1.15 and 1.16, as pg_dump 16 and 17 write them.
func TestSynthArchives(t *testing.T) {
	for _, minor := range []int{14, 15, 16} {
		c := feed(t, synthArchive(minor, 0), uint64(minor))
		if err := c.Close(); err != nil {
			t.Fatalf("1.%d: %v", minor, err)
		}
		want := []Table{
			{DumpID: 20, Schema: "public", Name: "t", Rows: 4, Counted: true},
			{DumpID: 21, Schema: "Bücher ✓", Name: `a "b"`, Rows: 1, Counted: true},
			{DumpID: 22, Schema: "public", Name: "empty", Rows: 0, Counted: true},
			{DumpID: 23, Schema: "public", Name: "inserts"},
			{DumpID: 24, Schema: "public", Name: "nodata"},
		}
		got := c.Tables()
		if len(got) != len(want) {
			t.Fatalf("1.%d: %+v", minor, got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("1.%d: %+v, want %+v", minor, got[i], want[i])
			}
		}
		// Compressed: the same archive's tables are named, none counted.
		c = feed(t, synthArchive(minor, 1), 1)
		if err := c.Close(); err != nil {
			t.Fatalf("1.%d compressed: %v", minor, err)
		}
		for _, tb := range c.Tables() {
			if tb.Counted {
				t.Fatalf("1.%d compressed: %+v counted", minor, tb)
			}
		}
	}
}

// What is not an archive PgSafe reads says why, and the bytes written are
// still accepted (the stream is never failed by counting).
func TestNotReadable(t *testing.T) {
	newer := synthArchive(16, 0)
	newer[6] = 17
	cases := map[string][]byte{
		"plain SQL":    []byte("--\n-- PostgreSQL database dump\n--\n"),
		"version 1.17": newer,
		"empty":        nil,
	}
	for name, b := range cases {
		c := feed(t, b, 9)
		err := c.Close()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if name == "empty" && !errors.Is(err, ErrTruncated) {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "version 1.17" && !strings.Contains(err.Error(), "1.17.0 is not one PgSafe reads") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestLines(t *testing.T) {
	cases := map[string]int64{
		"":                0,
		"a\n":             1,
		"a\nb":            2,
		"\n\n":            2, // rows of one empty value
		"\\.\n\n\n":       0,
		"a\n\\.\n\n\n":    1,
		"a\n\\.":          1,
		"\\\\.\n":         1, // a value `\.`, escaped
		"\\.x\n":          1,
		"a\\.\n\\.\n":     1,
		"\\\n":            1,
		"a\nb\n\\":        3,
		"x\r\ny\\r\\n\n":  2,
		"\\.\nnot rows\n": 0,
	}
	for in, want := range cases {
		for split := 0; split <= len(in); split++ { // every cut into two writes
			var l lines
			l.add([]byte(in[:split]))
			l.add([]byte(in[split:]))
			if got := l.rows(); got != want {
				t.Errorf("%q cut at %d: %d rows, want %d", in, split, got, want)
			}
		}
		var l lines // byte by byte
		for i := range len(in) {
			l.add([]byte{in[i]})
		}
		if got := l.rows(); got != want {
			t.Errorf("%q byte by byte: %d rows, want %d", in, got, want)
		}
	}
}

// FuzzCounter feeds arbitrary bytes, cut into writes at an arbitrary point:
// no panic, no internal error, and what it reports is bounded by the input
// (no allocation follows a length read from the archive).
func FuzzCounter(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.dump")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(len(b)/2))
	}
	for _, minor := range []int{14, 15, 16} {
		f.Add(synthArchive(minor, 0), uint16(100))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		c := NewCounter()
		k := min(int(cut), len(b))
		c.Write(b[:k])
		c.Write(b[k:])
		err := c.Close()
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		var rows int64
		tables := c.Tables()
		for _, tb := range tables {
			rows += tb.Rows
			if len(tb.Name) > maxName || len(tb.Schema) > maxName {
				t.Fatalf("kept a name of %d bytes", len(tb.Name))
			}
		}
		if rows > int64(len(b)) || len(tables) > len(b) {
			t.Fatalf("%d rows in %d tables from %d bytes", rows, len(tables), len(b))
		}
	})
}

// The fuzz seeds are real pg_dump 15 archives of PostgreSQL 13 and 15
// (testdata), read in full.
func TestSeedFiles(t *testing.T) {
	for _, name := range []string{"pg13-pgdump15.dump", "pg15-pgdump15.dump"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		c := feed(t, b, 5)
		if err := c.Close(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := map[string]int64{}
		for _, tb := range c.Tables() {
			got[tb.Schema+"."+tb.Name] = tb.Rows
		}
		want := map[string]int64{"public.lines": 3, "public.empty": 0, `Bücher ✓.x "y"`: 2}
		if len(got) != len(want) {
			t.Fatalf("%s: %v", name, got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: %v", name, got)
			}
		}
	}
}
