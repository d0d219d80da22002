package pgtools

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TOC is the table of contents of a custom-format archive, as
// `pg_restore --list` prints it.
type TOC struct {
	Database   string  // the dumped database's name
	DumpedFrom Version // the server's version
	DumpedBy   Version // pg_dump's version
	Entries    []TOCEntry
}

// TOCEntry is one archive item, such as `TABLE DATA public orders app`.
type TOCEntry struct {
	ID     int
	Desc   string // "TABLE", "TABLE DATA", "SEQUENCE SET", "EXTENSION", …
	Schema string // "-" for objects outside schemas
	Name   string
	Owner  string
	line   string // the line as printed, for a -L list
	rest   string // the part after the kind: "schema name owner"
}

// HasTableData reports whether the archive holds the data of table
// schema.name. (The list does not quote names, so a name with spaces is
// matched against the known name rather than split.)
func (t *TOC) HasTableData(schema, name string) bool {
	want := schema + " " + name
	for _, e := range t.Entries {
		if e.Desc != "TABLE DATA" {
			continue
		}
		if i := strings.LastIndexByte(e.rest, ' '); i > 0 && e.rest[:i] == want { // less " owner"
			return true
		}
	}
	return false
}

// Tables returns "schema.name" of every table whose data the archive holds.
// Schema names with spaces are split wrongly: --list does not quote them;
// use HasTableData to look for a known table.
func (t *TOC) Tables() []string {
	var out []string
	for _, e := range t.Entries {
		if e.Desc == "TABLE DATA" {
			out = append(out, e.Schema+"."+e.Name)
		}
	}
	return out
}

// descs are the multi-word entry kinds; the rest are one word.
var descs = []string{
	"TABLE DATA", "SEQUENCE SET", "SEQUENCE OWNED BY", "DEFAULT ACL", "FK CONSTRAINT",
	"MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "TEXT SEARCH CONFIGURATION",
	"TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE",
	"FOREIGN TABLE", "FOREIGN DATA WRAPPER", "USER MAPPING", "EVENT TRIGGER",
	"LARGE OBJECT", "BLOB METADATA", "BLOB DATA", "PROCEDURAL LANGUAGE", "ACCESS METHOD",
	"OPERATOR CLASS", "OPERATOR FAMILY", "ROW SECURITY", "PUBLICATION TABLE",
	"PUBLICATION TABLES IN SCHEMA", "DATABASE PROPERTIES", "SCHEMA",
	"INDEX ATTACH", "TABLE ATTACH", "CHECK CONSTRAINT", "SHELL TYPE",
}

var tocLineRe = regexp.MustCompile(`^(\d+); (\d+) (\d+) (.*)$`)

// ParseTOC reads the output of `pg_restore --list`.
func ParseTOC(r io.Reader) (*TOC, error) {
	toc := &TOC{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, ";"); ok {
			rest = strings.TrimSpace(rest)
			switch {
			case strings.HasPrefix(rest, "dbname: "):
				toc.Database = strings.TrimPrefix(rest, "dbname: ")
			case strings.HasPrefix(rest, "Dumped from database version: "):
				toc.DumpedFrom, _ = ParseVersion("(PostgreSQL) " + strings.TrimPrefix(rest, "Dumped from database version: "))
			case strings.HasPrefix(rest, "Dumped by pg_dump version: "):
				toc.DumpedBy, _ = ParseVersion("(PostgreSQL) " + strings.TrimPrefix(rest, "Dumped by pg_dump version: "))
			}
			continue
		}
		m := tocLineRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		e := TOCEntry{ID: id, line: line}
		rest := m[4]
		for _, d := range descs {
			if strings.HasPrefix(rest, d+" ") {
				e.Desc, rest = d, rest[len(d)+1:]
				break
			}
		}
		if e.Desc == "" {
			e.Desc, rest, _ = strings.Cut(rest, " ")
		}
		e.rest = rest
		fields := strings.Fields(rest)
		switch {
		case len(fields) >= 3:
			e.Schema, e.Owner = fields[0], fields[len(fields)-1]
			e.Name = strings.Join(fields[1:len(fields)-1], " ")
		case len(fields) == 2:
			e.Schema, e.Name = fields[0], fields[1]
		case len(fields) == 1:
			e.Name = fields[0]
		}
		toc.Entries = append(toc.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the archive's table of contents: %w", err)
	}
	return toc, nil
}

// List has pg_restore read a custom-format archive from r and returns its
// table of contents. pg_restore reads the whole stream, so a damaged archive
// fails here.
func List(ctx context.Context, pgRestore string, archive io.Reader) (*TOC, error) {
	run, err := start(ctx, "pg_restore", pgRestore, []string{"--list"}, Conn{}, archive, nil)
	if err != nil {
		return nil, err
	}
	toc, perr := ParseTOC(run)
	if _, err := io.Copy(io.Discard, run); err != nil {
		return nil, err
	}
	if err := run.Close(); err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	return toc, nil
}

// RestoreOptions are the pg_restore choices a user needs.
type RestoreOptions struct {
	NoOwner      bool // --no-owner: objects belong to the restoring user
	NoPrivileges bool // --no-privileges: skip GRANT/REVOKE
	// NoTablespaces: --no-tablespaces, every object in the default tablespace
	NoTablespaces bool
	Clean         bool // --clean --if-exists: drop objects before re-creating them
	// Jobs > 1 restores in parallel (--jobs); it needs the archive as a file
	// (ArchiveFile), not a stream.
	Jobs int
	// ExcludeExtensions are extensions not to create (managed services forbid
	// some); their CREATE EXTENSION and COMMENT entries are left out.
	ExcludeExtensions []string
	// ExitOnError stops at the first error; otherwise pg_restore goes on and
	// the errors are counted in the result.
	ExitOnError bool
	// SkipDescs are kinds of entries to leave out ("POLICY"), through a -L
	// list made from TOC, the archive's table of contents (List).
	SkipDescs []string
	TOC       *TOC
	// OnItem, if set, is called for each item pg_restore starts.
	OnItem func(item string)
}

// RestoreResult summarises a finished restore.
type RestoreResult struct {
	// Warnings are pg_restore's error and warning lines when it went on past
	// errors (up to 50), and IgnoredErrors how many errors it counted.
	Warnings      []string
	IgnoredErrors int
	// Retried are the archive entries (`pg_restore --list` lines) that a
	// parallel restore lost to a deadlock between its own jobs and that were
	// then restored again one at a time (see retryDeadlocked).
	Retried []string
}

var ignoredRe = regexp.MustCompile(`errors ignored on restore: (\d+)`)

// Restore runs pg_restore into conn's database (which must exist), reading the
// archive from archive (a stream; Jobs must be ≤ 1) or from archiveFile (a
// path, allowing Jobs > 1). conn.AllowWrite must be set: restores write.
func Restore(ctx context.Context, pgRestore string, conn Conn, archive io.Reader, archiveFile string, opts RestoreOptions) (*RestoreResult, error) {
	if !conn.AllowWrite {
		return nil, fmt.Errorf("restore into %s: the connection is read-only; restores need write credentials", conn)
	}
	if (archive == nil) == (archiveFile == "") {
		return nil, fmt.Errorf("restore: give the archive as a stream or as a file, not both or neither")
	}
	if opts.Jobs > 1 && archiveFile == "" {
		return nil, fmt.Errorf("restore: a parallel restore (%d jobs) needs the archive as a file", opts.Jobs)
	}
	args := baseRestoreArgs(conn, opts)
	if opts.Clean {
		args = append(args, "--clean", "--if-exists")
	}
	if opts.ExitOnError {
		args = append(args, "--exit-on-error")
	}
	if opts.Jobs > 1 {
		args = append(args, fmt.Sprintf("--jobs=%d", opts.Jobs))
	}
	if len(opts.SkipDescs) > 0 {
		if opts.TOC == nil || len(opts.ExcludeExtensions) > 0 {
			return nil, fmt.Errorf("restore: leaving out entries needs the archive's table of contents, and cannot be combined with leaving out extensions")
		}
		listFile, remove, err := writeList(opts.TOC, func(e TOCEntry) bool { return slices.Contains(opts.SkipDescs, e.Desc) })
		if err != nil {
			return nil, err
		}
		defer remove()
		args = append(args, "--use-list="+listFile)
	}
	if len(opts.ExcludeExtensions) > 0 {
		if archiveFile == "" {
			return nil, fmt.Errorf("restore: leaving out extensions needs the archive as a file")
		}
		listFile, remove, err := extensionFreeList(ctx, pgRestore, archiveFile, opts.ExcludeExtensions)
		if err != nil {
			return nil, err
		}
		defer remove()
		args = append(args, "--use-list="+listFile)
	}
	if archiveFile != "" {
		args = append(args, archiveFile)
	}
	res := &RestoreResult{}
	failed := &failedEntries{}
	run, err := start(ctx, "pg_restore", pgRestore, args, conn, archive, func(line string) {
		if item, ok := restoreItem(line); ok && opts.OnItem != nil {
			opts.OnItem(item)
		}
		if isProblemLine(line) && len(res.Warnings) < 50 {
			res.Warnings = append(res.Warnings, line)
		}
		failed.add(line)
	})
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, run) // stdout is empty with --dbname; Read waits for the end
	err = run.wait()
	if err != nil && !opts.ExitOnError {
		if m := ignoredRe.FindStringSubmatch(run.stderr.String()); m != nil {
			res.IgnoredErrors, _ = strconv.Atoi(m[1])
			if te, ok := err.(*ToolError); ok && te.Code != CodeCancelled && res.IgnoredErrors > 0 {
				if opts.Jobs > 1 && failed.onlyDeadlocks() {
					if retried, ok := retryDeadlocked(ctx, pgRestore, conn, archiveFile, failed.ids, opts); ok {
						return &RestoreResult{Retried: retried}, nil
					}
				}
				return res, nil // finished, with errors counted in the result
			}
		}
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

// baseRestoreArgs are the arguments of every pg_restore run into conn. The
// database goes in as a connection string (dbname='…'): libpq reads a bare
// --dbname holding "=" or starting with postgres:// as one, so a database
// named "a=b" would not be found. Host, user and the rest come from the
// environment (Conn.environ).
func baseRestoreArgs(conn Conn, opts RestoreOptions) []string {
	args := []string{"--no-password", "--verbose", "--dbname=dbname=" + quoteConnValue(conn.Database)}
	if opts.NoOwner {
		args = append(args, "--no-owner")
	}
	if opts.NoPrivileges {
		args = append(args, "--no-privileges")
	}
	if opts.NoTablespaces {
		args = append(args, "--no-tablespaces")
	}
	return args
}

// failedEntries follows pg_restore's stderr: which archive entries failed,
// and whether every error was a deadlock tied to an entry. A parallel
// pg_restore can deadlock with itself: it keeps items that lock the same
// tables apart only as far as it sees those tables in the items' direct
// dependencies, but a foreign key added to a partitioned table also locks
// every partition, and attaching a sub-partition's index locks its tables and
// indexes too (seen with pg_restore 15, about once in 40 restores: FK
// CONSTRAINT of a partitioned table against INDEX ATTACH of one of its
// sub-partitions). PostgreSQL cancels one of the two statements; pg_restore
// counts the error and goes on without that item.
type failedEntries struct {
	current int // the entry of the last "from TOC entry" line, 0 after its error
	ids     []int
	other   bool // an error that is not a deadlock of a known entry
}

var tocEntryRe = regexp.MustCompile(`^pg_restore: from TOC entry (\d+); `)

func (f *failedEntries) add(line string) {
	if m := tocEntryRe.FindStringSubmatch(line); m != nil {
		f.current, _ = strconv.Atoi(m[1])
		return
	}
	if !strings.HasPrefix(line, "pg_restore: error: ") {
		return
	}
	if f.current == 0 || !strings.HasSuffix(line, "ERROR:  deadlock detected") {
		f.other = true
		return
	}
	f.ids = append(f.ids, f.current)
	f.current = 0
}

func (f *failedEntries) onlyDeadlocks() bool { return len(f.ids) > 0 && !f.other }

// retryDeadlocked restores the entries ids of archiveFile again, one at a
// time (no other job to deadlock with), after a parallel restore lost them to
// deadlocks: a deadlocked statement was rolled back, so running it again is
// safe. It returns the entries' list lines, and whether all of them were
// restored without error.
func retryDeadlocked(ctx context.Context, pgRestore string, conn Conn, archiveFile string, ids []int, opts RestoreOptions) ([]string, bool) {
	f, err := os.Open(archiveFile)
	if err != nil {
		return nil, false
	}
	toc, err := List(ctx, pgRestore, f)
	f.Close()
	if err != nil {
		return nil, false
	}
	want := map[int]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var lines []string
	for _, e := range toc.Entries {
		if want[e.ID] {
			lines = append(lines, e.line)
		}
	}
	if len(lines) != len(want) {
		return nil, false
	}
	dir, err := os.MkdirTemp("", "pgsafe-list-*")
	if err != nil {
		return nil, false
	}
	defer os.RemoveAll(dir)
	list := filepath.Join(dir, "retry.list")
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, false
	}
	args := append(baseRestoreArgs(conn, opts), "--exit-on-error", "--use-list="+list, archiveFile)
	run, err := start(ctx, "pg_restore", pgRestore, args, conn, nil, nil)
	if err != nil {
		return nil, false
	}
	io.Copy(io.Discard, run)
	if run.wait() != nil {
		return nil, false
	}
	return lines, true
}

// restoreItem reads pg_restore's --verbose progress lines: `creating TABLE
// "public.orders"`, `processing data for table "public.orders"`, `launching
// item 3447 TABLE DATA public orders`.
func restoreItem(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "pg_restore: ")
	if !ok {
		return "", false
	}
	for _, p := range []string{"creating ", "processing data for table ", "launching item ", "restoring large object "} {
		if strings.HasPrefix(rest, p) {
			return rest, true
		}
	}
	return "", false
}

func isProblemLine(line string) bool {
	return strings.HasPrefix(line, "pg_restore: error:") || strings.HasPrefix(line, "pg_restore: warning:") ||
		strings.Contains(line, "ERROR:") || strings.HasPrefix(line, "pg_restore: from TOC entry")
}

// extensionFreeList writes a -L list of archiveFile without the given
// extensions' entries, in a private temporary directory.
func extensionFreeList(ctx context.Context, pgRestore, archiveFile string, exclude []string) (string, func(), error) {
	f, err := os.Open(archiveFile)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	toc, err := List(ctx, pgRestore, f)
	if err != nil {
		return "", nil, err
	}
	skip := map[string]bool{}
	for _, x := range exclude {
		skip[x] = true
	}
	return writeList(toc, func(e TOCEntry) bool {
		return e.Desc == "EXTENSION" && skip[e.Name] || e.Desc == "COMMENT" && strings.HasPrefix(e.Name, "EXTENSION ") && skip[strings.TrimPrefix(e.Name, "EXTENSION ")]
	})
}

// writeList writes a -L list of toc's entries, those skip says commented
// out, in a private temporary directory.
func writeList(toc *TOC, skip func(TOCEntry) bool) (string, func(), error) {
	var b strings.Builder
	for _, e := range toc.Entries {
		if skip(e) {
			b.WriteString(";")
		}
		b.WriteString(e.line + "\n")
	}
	dir, err := os.MkdirTemp("", "pgsafe-list-*")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "restore.list")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}
