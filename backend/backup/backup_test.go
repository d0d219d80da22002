package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/storage/local"
)

// dirStorage is a local folder storage (backend/storage/local) whose files
// the tests can look at.
type dirStorage struct {
	*local.Local
	root string
}

func newDir(t *testing.T) dirStorage {
	root := t.TempDir()
	l, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return dirStorage{l, root}
}

// files lists every file under the storage, temporary ones included.
func (d dirStorage) files(t *testing.T) []string {
	var out []string
	filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(d.root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// failingStorage wraps a storage and fails a Put after reading `after` bytes.
type failingStorage struct {
	dirStorage
	after int64
}

func (f failingStorage) Put(ctx context.Context, name string, r io.Reader) error {
	return f.dirStorage.Put(ctx, name, io.MultiReader(io.LimitReader(r, f.after), errReader{}))
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

type fixture struct {
	pg      *testenv.PG
	key     *keys.MasterKey
	clients []pgtools.Install
	reader  pgtools.Conn
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "shop")
	pg.Exec(t, "shop", `
		CREATE TABLE customers (id int PRIMARY KEY, name text);
		INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 300) g;
		CREATE SCHEMA sales;
		CREATE TABLE sales.orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric);
		INSERT INTO sales.orders (customer, total) SELECT 1 + g % 300, g * 1.5 FROM generate_series(1, 20000) g;
		CREATE TABLE empty_one (x int);
		CREATE ROLE backup LOGIN PASSWORD 'backup-pw-123';
		GRANT USAGE ON SCHEMA sales TO backup;
		GRANT SELECT ON ALL TABLES IN SCHEMA public, sales TO backup;
		GRANT SELECT ON ALL SEQUENCES IN SCHEMA sales TO backup;`)
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	clients := pgtools.Discover(context.Background())
	if len(clients) == 0 {
		t.Fatal("no pg_dump found (run `make test-deps`)")
	}
	return &fixture{pg: pg, key: mk, clients: clients, reader: pgtools.Conn{
		Host: pg.Host, Port: pg.Port, Database: "shop", User: "backup", Password: "backup-pw-123", SSLMode: "disable",
	}}
}

func (f *fixture) job(targets ...Target) Job {
	return Job{DatabaseID: "db1", Label: "shop", Conn: f.reader, Clients: f.clients, Key: f.key, Targets: targets, Prefix: "team-a"}
}

// openFile decrypts a stored object with the master key alone.
func openFile(t *testing.T, path string, mk *keys.MasterKey) ([]byte, format.Header) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, h, err := format.NewReader(f, keys.Keys{mk})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decrypt %s: %v", path, err)
	}
	return data, h
}

func TestRun(t *testing.T) {
	f := newFixture(t)
	a, b := newDir(t), newDir(t)
	var mu sync.Mutex
	var phases []Phase
	job := f.job(Target{ID: "s1", Name: "folder A", Storage: a}, Target{ID: "s2", Name: "folder B", Storage: b})
	job.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}
	res, err := Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if len(res.Failed) != 0 {
		t.Fatalf("failed storages: %+v", res.Failed)
	}
	if got := fmt.Sprint(phases); got != "[connecting dumping finishing done]" {
		t.Errorf("phases %s", got)
	}
	want := []string{"team-a/db1/" + m.BackupID + ".manifest.pgsafe", "team-a/db1/" + m.BackupID + ".pgsafe",
		"team-a/db1/" + m.BackupID + ".globals.pgsafe"}
	sort.Strings(want)
	for _, s := range []dirStorage{a, b} {
		if got := s.files(t); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("storage holds %v, want %v", got, want)
		}
	}
	// The backup decrypts with the key alone to a pg_dump archive pg_restore reads.
	archive, h := openFile(t, filepath.Join(a.root, m.Object), f.key)
	if h.BackupID.String() != m.BackupID || h.Compression != format.CompressionZstd {
		t.Fatalf("header %+v", h)
	}
	client, _ := pgtools.Pick(f.clients, 15)
	toc, err := pgtools.List(context.Background(), client.PgRestore, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range m.Tables {
		if !toc.HasTableData(tb.Schema, tb.Name) {
			t.Errorf("the archive lacks table %s.%s", tb.Schema, tb.Name)
		}
	}
	// The manifest decrypts too and matches what Run returned.
	plain, _ := openFile(t, filepath.Join(b.root, ManifestOf(m.Object)), f.key)
	got, err := ParseManifest(plain)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := os.ReadFile(filepath.Join(b.root, m.Object))
	if got.SHA256 != m.SHA256 || got.StoredSize != int64(len(stored)) || got.RawSize != int64(len(archive)) {
		t.Errorf("manifest sizes/hash: %+v; stored %d bytes, archive %d", got, len(stored), len(archive))
	}
	if got.CompressedSize <= 0 || got.CompressedSize >= got.StoredSize {
		t.Errorf("compressed size %d of stored %d", got.CompressedSize, got.StoredSize)
	}
	counts := map[string]int64{}
	for _, tb := range got.Tables {
		if !tb.Counted {
			t.Errorf("%s.%s not counted", tb.Schema, tb.Name)
		}
		counts[tb.Schema+"."+tb.Name] = tb.Rows
	}
	if fmt.Sprint(counts) != "map[public.customers:300 public.empty_one:0 sales.orders:20000]" || !got.RowsCounted {
		t.Errorf("row counts %v", counts)
	}
	if got.ServerMajor != 15 || got.PgDumpVersion == "" || got.KeyID != f.key.ID().String() || len(got.Storages) != 2 {
		t.Errorf("manifest %+v", got)
	}
}

// Rows are counted from pg_dump's stream: the manifest's counts equal
// count(*) on data that a line count gets wrong (newlines and backslashes in
// values, a value `\.`, empty single-column rows, a row larger than a pipe's
// buffer, partitions, odd names), and a table pg_dump holds no data of (here:
// none, since every listed table is dumped) would say Counted false.
func TestRunCountsRowsFromTheStream(t *testing.T) {
	f := newFixture(t)
	f.pg.Exec(t, "shop", `
		CREATE TABLE lines (t text);
		INSERT INTO lines VALUES (E'a\nb\r\n'), (E'\\.'), (''), (''), (NULL), (E'\\'), (repeat(md5('x'), 100000));
		CREATE SCHEMA "Bücher ✓";
		CREATE TABLE "Bücher ✓"."a ""b""; c" (id int, am date) PARTITION BY RANGE (am);
		CREATE TABLE "Bücher ✓"."p1" PARTITION OF "Bücher ✓"."a ""b""; c" FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
		CREATE TABLE "Bücher ✓"."p2" PARTITION OF "Bücher ✓"."a ""b""; c" DEFAULT;
		INSERT INTO "Bücher ✓"."a ""b""; c" SELECT g, date '2023-06-01' + g FROM generate_series(1, 500) g;
		GRANT USAGE ON SCHEMA "Bücher ✓" TO backup;
		GRANT SELECT ON ALL TABLES IN SCHEMA public, "Bücher ✓" TO backup;`)
	res, err := Run(context.Background(), f.job(Target{ID: "s1", Name: "folder", Storage: newDir(t)}))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if !m.RowsCounted || len(m.Tables) != 6 {
		t.Fatalf("rows counted %v, tables %+v", m.RowsCounted, m.Tables)
	}
	conn := f.pg.Conn(t, "shop")
	for _, tb := range m.Tables {
		var n int64
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{tb.Schema, tb.Name}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !tb.Counted || tb.Rows != n {
			t.Errorf("%s.%s: manifest %d (counted %v), count(*) %d", tb.Schema, tb.Name, tb.Rows, tb.Counted, n)
		}
	}
	if l, _ := m.Table("public", "lines"); l.Rows != 7 {
		t.Errorf("lines: %+v", l)
	}
}

func TestRunCountsOnlyChosenTables(t *testing.T) {
	f := newFixture(t)
	s := newDir(t)
	job := f.job(Target{ID: "s1", Name: "folder", Storage: s})
	job.Count = func(schema, name string) bool { return name != "orders" }
	res, err := Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	o, ok := m.Table("sales", "orders")
	if !ok || o.Counted || m.RowsCounted {
		t.Fatalf("orders %+v, rows counted %v", o, m.RowsCounted)
	}
}

// Every failure leaves nothing that looks like a backup, in every storage.
func TestRunFailuresLeaveNothing(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name    string
		prepare func(t *testing.T, j *Job, a, b dirStorage)
		want    string
	}{
		{"pg_dump cannot read a table", func(t *testing.T, j *Job, a, b dirStorage) {
			f.pg.Exec(t, "shop", "CREATE TABLE hidden (x int)")
			t.Cleanup(func() { f.pg.Exec(t, "shop", "DROP TABLE hidden") })
			j.Count = func(string, string) bool { return false } // get past counting
		}, "cannot read hidden"},
		{"every storage fails midway", func(t *testing.T, j *Job, a, b dirStorage) {
			j.Targets[0].Storage = failingStorage{a, 10 << 10}
			j.Targets[1].Storage = failingStorage{b, 100 << 10}
		}, "no storage could take the backup"},
		{"wrong password", func(t *testing.T, j *Job, a, b dirStorage) { j.Conn.Password = "nope" }, "password authentication failed"},
		{"pg_dump too old", func(t *testing.T, j *Job, a, b dirStorage) {
			j.Clients = []pgtools.Install{{Dir: "/old", PgDump: "/bin/false", Version: pgtools.Version{Major: 12}}}
		}, "needs pg_dump 15 or newer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newDir(t), newDir(t)
			job := f.job(Target{ID: "a", Name: "A", Storage: a}, Target{ID: "b", Name: "B", Storage: b})
			tc.prepare(t, &job, a, b)
			m, err := Run(context.Background(), job)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, %v; want an error mentioning %q", m, err, tc.want)
			}
			if strings.Contains(err.Error(), "backup-pw-123") {
				t.Fatalf("the error shows the password: %v", err)
			}
			for _, s := range []dirStorage{a, b} {
				if files := s.files(t); len(files) != 0 {
					t.Fatalf("a failed backup left %v", files)
				}
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	f := newFixture(t)
	f.pg.Exec(t, "shop", "CREATE TABLE big AS SELECT g, md5(g::text) AS h FROM generate_series(1, 300000) g; GRANT SELECT ON big TO backup")
	s := newDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	job := f.job(Target{ID: "s", Name: "S", Storage: s})
	job.ProgressEvery = 1
	job.Progress = func(p Progress) {
		if p.RawBytes > 1<<20 {
			cancel()
		}
	}
	if _, err := Run(ctx, job); err == nil {
		t.Fatal("a cancelled backup succeeded")
	}
	if files := s.files(t); len(files) != 0 {
		t.Fatalf("a cancelled backup left %v", files)
	}
}

// The server's roles are stored beside the backup, encrypted, named in the
// manifest, and never hold a password, though the roles have some. The
// backup's role is no superuser: pg_dumpall without passwords needs none.
func TestRunStoresGlobalsWithoutPasswords(t *testing.T) {
	f := newFixture(t)
	f.pg.Exec(t, "shop", `CREATE ROLE app_owner LOGIN PASSWORD 'owner-secret-42';
		CREATE ROLE readers NOLOGIN;
		CREATE ROLE "Odd ""Name""" PASSWORD 'odd-secret-43';
		GRANT readers TO app_owner`)
	s := newDir(t)
	res, err := Run(context.Background(), f.job(Target{ID: "s1", Name: "folder", Storage: s}))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Globals == nil || m.GlobalsMissing != "" {
		t.Fatalf("globals %+v, missing %q", m.Globals, m.GlobalsMissing)
	}
	g := m.Globals
	if g.Object != GlobalsName("team-a", "db1", format.BackupID{}) && g.Object != "team-a/db1/"+m.BackupID+".globals.pgsafe" {
		t.Fatalf("globals object %q", g.Object)
	}
	for _, r := range []string{"app_owner", "readers", `Odd "Name"`, "backup", "postgres"} {
		if !slices.Contains(g.Roles, r) {
			t.Errorf("roles %q lack %q", g.Roles, r)
		}
	}
	raw, err := os.ReadFile(filepath.Join(s.root, g.Object))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if int64(len(raw)) != g.StoredSize || hex.EncodeToString(sum[:]) != g.SHA256 {
		t.Errorf("stored %d bytes %x; manifest %+v", len(raw), sum, g)
	}
	sql, h := openFile(t, filepath.Join(s.root, g.Object), f.key)
	if h.BackupID.String() != m.BackupID || int64(len(sql)) != g.RawSize {
		t.Errorf("header %+v, %d bytes, manifest %+v", h, len(sql), g)
	}
	text := string(sql)
	if !strings.Contains(text, "CREATE ROLE app_owner;") || !strings.Contains(text, "GRANT readers TO app_owner") {
		t.Errorf("globals lack the roles:\n%s", text)
	}
	for _, secret := range []string{"owner-secret-42", "odd-secret-43", "backup-pw-123", "SCRAM-SHA-256$", "PASSWORD"} {
		if strings.Contains(strings.ToUpper(text), strings.ToUpper(secret)) {
			t.Errorf("the globals hold %q:\n%s", secret, text)
		}
	}
	if pgtools.HasPassword(sql) {
		t.Error("HasPassword finds a password in the stored globals")
	}
}

// Without a pg_dumpall the backup still succeeds and says what is missing.
func TestRunWithoutPgDumpall(t *testing.T) {
	f := newFixture(t)
	s := newDir(t)
	job := f.job(Target{ID: "s1", Name: "folder", Storage: s})
	job.Clients = slices.Clone(job.Clients)
	for i := range job.Clients {
		job.Clients[i].PgDumpall = ""
	}
	res, err := Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Globals != nil || !strings.Contains(m.GlobalsMissing, "no pg_dumpall of PostgreSQL 15 or newer") {
		t.Fatalf("globals %+v, missing %q", m.Globals, m.GlobalsMissing)
	}
	if files := s.files(t); len(files) != 2 {
		t.Fatalf("storage holds %v", files)
	}
}
