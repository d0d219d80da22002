package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/storage/local"
)

// dirStorage is a local folder storage (backend/storage/local) whose files
// the tests can reach.
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

func (d dirStorage) path(name string) string { return filepath.Join(d.root, filepath.FromSlash(name)) }

type fixture struct {
	pg      *testenv.PG
	key     *keys.MasterKey
	client  pgtools.Install
	store   dirStorage
	m       *backup.Manifest
	writeSU pgtools.Conn // superuser, able to write: the "restore credentials"
}

// newFixture backs up database shop of a fresh PostgreSQL 15 cluster.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "shop")
	pg.Exec(t, "shop", `
		CREATE EXTENSION hstore;
		CREATE TABLE customers (id int PRIMARY KEY, name text, attrs hstore);
		INSERT INTO customers SELECT g, 'customer ' || g, 'tier=>gold' FROM generate_series(1, 500) g;
		CREATE SCHEMA "Sales Dept";
		CREATE TABLE "Sales Dept"."Orders" (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric);
		INSERT INTO "Sales Dept"."Orders" (customer, total) SELECT 1 + g % 500, g FROM generate_series(1, 5000) g;
		CREATE TABLE noise AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS h FROM generate_series(1, 80000) g;
		CREATE VIEW big_orders AS SELECT * FROM "Sales Dept"."Orders" WHERE total > 100;`)
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	clients := pgtools.Discover(context.Background())
	client, err := pgtools.Pick(clients, 15)
	if err != nil {
		t.Fatal(err)
	}
	su := pgtools.Conn{Host: pg.Host, Port: pg.Port, Database: "shop", User: pg.User, Password: pg.Password, SSLMode: "disable"}
	st := newDir(t)
	m, err := backup.Run(context.Background(), backup.Job{DatabaseID: "7", Label: "shop", Conn: su, Clients: clients, Key: mk,
		Targets: []backup.Target{{ID: "1", Name: "folder", Storage: st}}})
	if err != nil {
		t.Fatal(err)
	}
	w := su
	w.AllowWrite = true
	return &fixture{pg: pg, key: mk, client: client, store: st, m: m.Manifest, writeSU: w}
}

func (f *fixture) count(t *testing.T, db, table string) int64 {
	t.Helper()
	var n int64
	if err := f.pg.Conn(t, db).QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s in %s: %v", table, db, err)
	}
	return n
}

func (f *fixture) databases(t *testing.T, prefix string) []string {
	t.Helper()
	rows, err := f.pg.Conn(t, "postgres").Query(context.Background(), "SELECT datname FROM pg_database WHERE datname LIKE $1 || '%'", prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

// damage copies the backup object into a new storage, changed by edit.
func (f *fixture) damaged(t *testing.T, edit func([]byte) []byte) dirStorage {
	t.Helper()
	data, err := os.ReadFile(f.store.path(f.m.Object))
	if err != nil {
		t.Fatal(err)
	}
	d := newDir(t)
	if err := d.Put(context.Background(), f.m.Object, strings.NewReader(string(edit(data)))); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kr := keys.Keys{f.key}

	res, err := Verify(ctx, f.store, f.m, kr, f.client.PgRestore)
	if f.m.StoredSize < 2<<20 {
		t.Fatalf("the fixture backup has %d bytes; the tests below need several chunks", f.m.StoredSize)
	}
	if err != nil || !res.OK || res.Tables != 3 {
		t.Fatalf("Verify of a good backup = %+v, %v", res, err)
	}

	other, _ := keys.NewMasterKey()
	mid := f.m.StoredSize / 2
	changed := *f.m
	changed.Tables = append(append([]backup.TableCount(nil), f.m.Tables...), backup.TableCount{Schema: "public", Name: "ghost"})
	wrongHash := *f.m
	wrongHash.SHA256 = strings.Repeat("0", 64)
	for _, tc := range []struct {
		name   string
		src    Source
		m      *backup.Manifest
		kr     keys.Keyring
		code   ProblemCode
		detail string
	}{
		{"flipped bit", f.damaged(t, func(b []byte) []byte { b[mid] ^= 1; return b }), f.m, kr, ProblemTampered, "failed authentication"},
		{"truncated", f.damaged(t, func(b []byte) []byte { return b[:mid] }), f.m, kr, ProblemTruncated, "cut short"},
		{"truncated at a chunk boundary", f.damaged(t, func(b []byte) []byte { return b[:102+(1<<20)+16] }), f.m, kr, ProblemTruncated, "truncated after chunk 0"},
		{"appended", f.damaged(t, func(b []byte) []byte { return append(b, 0) }), f.m, kr, ProblemTruncated, "damaged or modified"},
		{"missing", newDir(t), f.m, kr, ProblemMissing, "cannot be read"},
		{"other key", f.store, f.m, keys.Keys{other}, ProblemWrongKey, f.key.ID().String()},
		{"table missing from archive", f.store, &changed, kr, ProblemTables, "public.ghost"},
		{"hash differs from manifest", f.store, &wrongHash, kr, ProblemHash, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(ctx, tc.src, tc.m, tc.kr, f.client.PgRestore)
			if err != nil {
				t.Fatalf("Verify could not run: %v", err)
			}
			if res.OK || res.Problem == nil || res.Problem.Code != tc.code || !strings.Contains(res.Problem.Detail, tc.detail) {
				t.Fatalf("Verify = ok %v, problem %+v; want %s mentioning %q", res.OK, res.Problem, tc.code, tc.detail)
			}
		})
	}
	// The roles object beside the backup is checked too: altered, swapped or
	// missing, the backup does not verify.
	withGlobals := func(t *testing.T, edit func([]byte) []byte) dirStorage {
		d := newDir(t)
		for _, name := range []string{f.m.Object, backup.GlobalsOf(f.m.Object)} {
			data, err := os.ReadFile(f.store.path(name))
			if err != nil {
				t.Fatal(err)
			}
			if name != f.m.Object {
				if data = edit(data); data == nil {
					continue
				}
			}
			if err := d.Put(ctx, name, strings.NewReader(string(data))); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	if f.m.Globals == nil {
		t.Fatalf("the fixture backup has no globals: %s", f.m.GlobalsMissing)
	}
	globalsHash := *f.m
	g := *f.m.Globals
	g.SHA256 = strings.Repeat("0", 64)
	globalsHash.Globals = &g
	for _, tc := range []struct {
		name   string
		src    Source
		m      *backup.Manifest
		code   ProblemCode
		detail string
	}{
		{"globals flipped bit", withGlobals(t, func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), f.m, ProblemHash, "roles object"},
		{"globals flipped bit, hash matching", withGlobals(t, func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), nil, ProblemTruncated, "does not authenticate"}, // its one chunk is its last: "cut short or damaged"
		{"globals missing", withGlobals(t, func([]byte) []byte { return nil }), f.m, ProblemMissing, "roles object"},
		{"globals hash differs from manifest", f.store, &globalsHash, ProblemHash, "roles object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			if m == nil { // the manifest agrees with the altered object: the encryption still catches it
				raw, _ := os.ReadFile(tc.src.(dirStorage).path(backup.GlobalsOf(f.m.Object)))
				sum := sha256.Sum256(raw)
				c := *f.m
				cg := *f.m.Globals
				cg.SHA256 = hex.EncodeToString(sum[:])
				c.Globals = &cg
				m = &c
			}
			res, err := Verify(ctx, tc.src, m, kr, f.client.PgRestore)
			if err != nil {
				t.Fatalf("Verify could not run: %v", err)
			}
			if res.OK || res.Problem == nil || res.Problem.Code != tc.code || !strings.Contains(res.Problem.Detail, tc.detail) {
				t.Fatalf("Verify = ok %v, problem %+v; want %s mentioning %q", res.OK, res.Problem, tc.code, tc.detail)
			}
		})
	}
	t.Run("offset of a flipped bit", func(t *testing.T) {
		res, _ := Verify(ctx, f.damaged(t, func(b []byte) []byte { b[mid] ^= 1; return b }), f.m, kr, f.client.PgRestore)
		if res.Problem == nil || res.Problem.Offset > mid || res.Problem.Offset < mid-(1<<20)-16 {
			t.Fatalf("flipped byte at %d reported at offset %+v", mid, res.Problem)
		}
	})
}

func TestDrill(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	drillServer := f.writeSU
	drillServer.Database = "postgres"
	res, err := Drill(ctx, f.store, f.m, keys.Keys{f.key}, f.client.PgRestore, drillServer)
	if err != nil || !res.OK || res.Tables != 3 || len(res.RowDiffs) != 0 {
		t.Fatalf("Drill = %+v, %v", res, err)
	}
	if left := f.databases(t, DrillPrefix); len(left) != 0 {
		t.Fatalf("scratch databases left: %v", left)
	}

	// A manifest that recorded other counts than the archive holds.
	m := *f.m
	m.Tables = append([]backup.TableCount(nil), f.m.Tables...)
	for i := range m.Tables {
		if m.Tables[i].Name == "customers" {
			m.Tables[i].Rows++
		}
	}
	res, err = Drill(ctx, f.store, &m, keys.Keys{f.key}, f.client.PgRestore, drillServer)
	if err != nil || res.OK || res.Problem.Code != ProblemRowCounts || len(res.RowDiffs) != 1 ||
		res.RowDiffs[0] != (RowDiff{Table: "public.customers", Want: 501, Got: 500}) {
		t.Fatalf("Drill with a wrong count = %+v, %v", res, err)
	}
	if left := f.databases(t, DrillPrefix); len(left) != 0 {
		t.Fatalf("scratch databases left: %v", left)
	}
}

func TestRestore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kr := keys.Keys{f.key}
	to := func(db string) pgtools.Conn { c := f.writeSU; c.Database = db; return c }

	t.Run("new database, streamed", func(t *testing.T) {
		var phases []string
		res, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, to("shop_copy"), Options{Mode: ModeNew, NoOwner: true,
			Progress: func(p Progress) {
				if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
					phases = append(phases, p.Phase)
				}
			}})
		if err != nil || res.ViaTempFile || res.IgnoredErrors != 0 {
			t.Fatalf("Restore = %+v, %v", res, err)
		}
		if n := f.count(t, "shop_copy", `"Sales Dept"."Orders"`); n != 5000 {
			t.Fatalf("restored %d orders", n)
		}
		if strings.Join(phases, ",") != "checking,restoring,counting,done" {
			t.Errorf("phases %v", phases)
		}
	})

	t.Run("new database that exists", func(t *testing.T) {
		_, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, to("shop"), Options{Mode: ModeNew})
		if err == nil || !strings.Contains(err.Error(), `"shop" already exists`) {
			t.Fatalf("Restore over an existing database as new: %v", err)
		}
	})

	t.Run("replace, parallel", func(t *testing.T) {
		f.pg.Exec(t, "shop_copy", `DELETE FROM "Sales Dept"."Orders" WHERE id > 10`)
		tmp := t.TempDir()
		res, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, to("shop_copy"), Options{Mode: ModeReplace, Jobs: 2, NoOwner: true, TempDir: tmp})
		if err != nil || !res.ViaTempFile {
			t.Fatalf("Restore = %+v, %v", res, err)
		}
		if n := f.count(t, "shop_copy", `"Sales Dept"."Orders"`); n != 5000 {
			t.Fatalf("replaced database has %d orders", n)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})

	t.Run("replace a database that does not exist", func(t *testing.T) {
		_, err := Restore(ctx, f.store, f.m, kr, f.client.PgRestore, to("nope"), Options{Mode: ModeReplace})
		if err == nil || !strings.Contains(err.Error(), "nothing to replace") {
			t.Fatalf("%v", err)
		}
	})

	t.Run("target server too old", func(t *testing.T) {
		m := *f.m
		m.ServerMajor = 17
		_, err := Restore(ctx, f.store, &m, kr, f.client.PgRestore, to("shop_17"), Options{Mode: ModeNew})
		if err == nil || !strings.Contains(err.Error(), "PostgreSQL 17 or newer") {
			t.Fatalf("%v", err)
		}
		if dbs := f.databases(t, "shop_17"); len(dbs) != 0 {
			t.Fatalf("a refused restore created %v", dbs)
		}
	})

	t.Run("tampered backup leaves no new database", func(t *testing.T) {
		bad := f.damaged(t, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		_, err := Restore(ctx, bad, f.m, kr, f.client.PgRestore, to("shop_bad"), Options{Mode: ModeNew})
		var p *Problem
		if !errors.As(err, &p) || p.Code != ProblemTampered || !strings.Contains(err.Error(), "dropped again") {
			t.Fatalf("Restore of a tampered backup: %v", err)
		}
		if dbs := f.databases(t, "shop_bad"); len(dbs) != 0 {
			t.Fatalf("a failed restore left %v", dbs)
		}
	})

	t.Run("replace with a damaged backup changes nothing", func(t *testing.T) {
		bad := f.damaged(t, func(b []byte) []byte { b[len(b)-200] ^= 1; return b })
		_, err := Restore(ctx, bad, f.m, kr, f.client.PgRestore, to("shop_copy"), Options{Mode: ModeReplace})
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("Restore of a damaged backup over a database: %v", err)
		}
		if n := f.count(t, "shop_copy", `"Sales Dept"."Orders"`); n != 5000 {
			t.Fatalf("the database was changed: %d orders", n)
		}
	})

	// A storage that serves a good copy to the check and a cut one to the
	// restore must not leave the database half-replaced: the restore reads
	// the storage once and restores what it checked.
	t.Run("replace reads the storage once", func(t *testing.T) {
		cut := f.damaged(t, func(b []byte) []byte { return b[:len(b)/2] })
		for _, jobs := range []int{1, 2} {
			f.pg.Exec(t, "shop_copy", `DELETE FROM "Sales Dept"."Orders" WHERE id > 10`)
			src := &switchSource{first: f.store, then: cut}
			tmp := t.TempDir()
			res, err := Restore(ctx, src, f.m, kr, f.client.PgRestore, to("shop_copy"), Options{Mode: ModeReplace, Jobs: jobs, NoOwner: true, TempDir: tmp})
			if err != nil || res.IgnoredErrors != 0 {
				t.Fatalf("replace with %d jobs = %+v, %v", jobs, res, err)
			}
			if src.opened != 1 {
				t.Fatalf("replace with %d jobs opened the backup %d times", jobs, src.opened)
			}
			if n := f.count(t, "shop_copy", `"Sales Dept"."Orders"`); n != 5000 {
				t.Fatalf("replace with %d jobs left %d orders", jobs, n)
			}
			if n := f.count(t, "shop_copy", "noise"); n != 80000 {
				t.Fatalf("replace with %d jobs left %d rows of noise", jobs, n)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		}
	})

	t.Run("replace whose one read is cut changes nothing", func(t *testing.T) {
		cut := f.damaged(t, func(b []byte) []byte { return b[:len(b)-100] })
		for _, jobs := range []int{1, 2} {
			tmp := t.TempDir()
			_, err := Restore(ctx, cut, f.m, kr, f.client.PgRestore, to("shop_copy"), Options{Mode: ModeReplace, Jobs: jobs, TempDir: tmp})
			var p *Problem
			if !errors.As(err, &p) || p.Code != ProblemTruncated || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("replace from a cut backup with %d jobs: %v", jobs, err)
			}
			if n := f.count(t, "shop_copy", `"Sales Dept"."Orders"`); n != 5000 {
				t.Fatalf("the database was changed: %d orders", n)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		}
	})

	t.Run("stale temporary directories", func(t *testing.T) {
		parent := t.TempDir()
		os.MkdirAll(filepath.Join(parent, TempPrefix+"123", "x"), 0o700)
		os.MkdirAll(filepath.Join(parent, "keep-me"), 0o700)
		if removed := RemoveStale(parent); len(removed) != 1 {
			t.Fatalf("removed %v", removed)
		}
		if _, err := os.Stat(filepath.Join(parent, "keep-me")); err != nil {
			t.Fatal("RemoveStale removed another directory")
		}
	})
}

// switchSource serves first on the first Open and then on every later one.
type switchSource struct {
	first, then Source
	opened      int
}

func (s *switchSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	s.opened++
	if s.opened == 1 {
		return s.first.Open(ctx, name)
	}
	return s.then.Open(ctx, name)
}
