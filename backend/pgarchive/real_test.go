package pgarchive

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// trickySQL is data that row counting gets wrong if it counts anything but
// rows: newlines, carriage returns and backslashes inside values (escaped by
// COPY), a value that is `\.` alone, empty tables, partitions, rows larger
// than a pipe's buffer, names with spaces, quotes and non-ASCII letters,
// large objects (a data block of another type) and a materialized view and a
// sequence (entries without rows).
const trickySQL = `
CREATE TABLE lines (id int, t text);
INSERT INTO lines VALUES (1, E'a\nb\nc'), (2, E'\r\n\\n'), (3, E'\\.'), (4, E'\\'), (5, ''), (6, NULL), (7, E'\n');
INSERT INTO lines SELECT g, E'x\ny' FROM generate_series(8, 2000) g;
CREATE TABLE empty (id int);
CREATE TABLE "with space ""and quotes""" (id int);
INSERT INTO "with space ""and quotes""" SELECT generate_series(1, 17);
CREATE SCHEMA "Bücher ✓";
CREATE TABLE "Bücher ✓"."Ausleihe; DROP" (id int, am date) PARTITION BY RANGE (am);
CREATE TABLE "Bücher ✓"."a_2023" PARTITION OF "Bücher ✓"."Ausleihe; DROP" FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE "Bücher ✓"."a_rest" PARTITION OF "Bücher ✓"."Ausleihe; DROP" DEFAULT;
INSERT INTO "Bücher ✓"."Ausleihe; DROP" SELECT g, date '2023-06-01' + g FROM generate_series(1, 500) g;
CREATE TABLE big (id int, pad text);
INSERT INTO big SELECT g, repeat(md5(g::text), 40000) FROM generate_series(1, 3) g;
INSERT INTO big VALUES (4, NULL);
SELECT lo_from_bytea(0, decode(repeat('0a', 70000), 'hex'));
CREATE MATERIALIZED VIEW mv AS SELECT * FROM lines;
CREATE SEQUENCE s;
CREATE UNLOGGED TABLE unlogged (id int);
INSERT INTO unlogged SELECT generate_series(1, 3);
`

func pgDump15(t *testing.T) pgtools.Install {
	t.Helper()
	in, err := pgtools.Pick(pgtools.Discover(context.Background()), 15)
	if err != nil {
		t.Fatalf("%v (run `make test-deps`)", err)
	}
	return in
}

// dump runs pg_dump --format=custom with args against db and returns the archive.
func dump(t *testing.T, pg *testenv.PG, client pgtools.Install, db string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(client.PgDump, append([]string{"--format=custom"}, args...)...)
	cmd.Env = append(os.Environ(), append(pg.Environ(), "PGDATABASE="+db)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return out
}

// countStar is count(*) of every table with data (the truth).
func countStar(t *testing.T, pg *testenv.PG, db string) map[[2]string]int64 {
	t.Helper()
	conn := pg.Conn(t, db)
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ S, N string }])
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]int64{}
	for _, n := range names {
		var c int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{n.S, n.N}.Sanitize()).Scan(&c); err != nil {
			t.Fatal(err)
		}
		want[[2]string{n.S, n.N}] = c
	}
	return want
}

// feed writes b to a new Counter in pieces of random sizes (1 byte to 64 KiB).
func feed(t *testing.T, b []byte, seed uint64) *Counter {
	t.Helper()
	c := NewCounter()
	r := rand.New(rand.NewPCG(seed, 7))
	for len(b) > 0 {
		n := min(len(b), 1+r.IntN(1<<16))
		if r.IntN(4) == 0 {
			n = min(len(b), 1+r.IntN(6)) // tiny writes split every field
		}
		if k, err := c.Write(b[:n]); k != n || err != nil {
			t.Fatalf("Write = %d, %v", k, err)
		}
		b = b[n:]
	}
	return c
}

func checkCounts(t *testing.T, c *Counter, want map[[2]string]int64) {
	t.Helper()
	got := map[[2]string]int64{}
	for _, tb := range c.Tables() {
		if !tb.Counted {
			t.Errorf("%s.%s not counted", tb.Schema, tb.Name)
		}
		got[[2]string{tb.Schema, tb.Name}] = tb.Rows
	}
	for k, n := range want {
		if g, ok := got[k]; !ok || g != n {
			t.Errorf("%s.%s: counted %d (present %v), count(*) %d", k[0], k[1], g, ok, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("archive tables %v, database tables %v", got, want)
	}
}

// Real pg_dump archives of PostgreSQL 13 and 15 servers (pg_dump 15, the
// client this machine has): the stream counts equal count(*) for every
// table, however the stream is cut into writes.
func TestRealArchives(t *testing.T) {
	client := pgDump15(t)
	for _, major := range []int{13, 15} {
		t.Run("PostgreSQL "+string(rune('0'+major/10))+string(rune('0'+major%10)), func(t *testing.T) {
			t.Parallel()
			pg := testenv.Postgres(t, testenv.WithVersion(major))
			pg.CreateDB(t, "tricky")
			pg.Exec(t, "tricky", trickySQL)
			want := countStar(t, pg, "tricky")
			if want[[2]string{"public", "lines"}] != 2000 || want[[2]string{"public", "big"}] != 4 {
				t.Fatalf("fixture: %v", want)
			}
			archive := dump(t, pg, client, "tricky", "--compress=0")
			for seed := range uint64(4) {
				c := feed(t, archive, seed)
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				checkCounts(t, c, want)
				h, ok := c.Header()
				if !ok || h.Version != "1.14.0" || h.Compressed || h.Database != "tricky" || h.IntSize != 4 {
					t.Fatalf("header %+v %v", h, ok)
				}
			}
		})
	}
}

// Pagila with rows in every table (partitions of payment included).
func TestRealArchivePagila(t *testing.T) {
	client := pgDump15(t)
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "pagila")
	cmd := exec.Command(client.Psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", testenv.PagilaSchema(t))
	cmd.Env = append(os.Environ(), append(pg.Environ(), "PGDATABASE=pagila")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("load Pagila: %v\n%s", err, out)
	}
	pg.Exec(t, "pagila", `
		INSERT INTO language (name) VALUES ('English'), ('Deutsch'), ('日本語');
		INSERT INTO country (country) VALUES ('Deutschland'), ('Österreich'), ('日本');
		INSERT INTO city (city, country_id) SELECT 'Stadt ' || g, 1 + g % 3 FROM generate_series(1, 30) g;
		INSERT INTO address (address, district, city_id, postal_code, phone)
			SELECT E'Haupt\nstraße ' || g, 'Bezirk ' || g % 7, 1 + g % 30, lpad(g::text, 5, '0'), '+49 ' || g FROM generate_series(1, 200) g;
		INSERT INTO store (manager_staff_id, address_id) VALUES (1, 1), (2, 2);
		INSERT INTO staff (first_name, last_name, address_id, store_id, username, picture)
			VALUES ('Jürgen', 'Müller', 3, 1, 'jm', '\x0a0a5c2e0a'), ('Zoë', 'Ågren', 4, 2, 'zå', NULL);
		INSERT INTO customer (store_id, first_name, last_name, email, address_id, active)
			SELECT 1 + g % 2, 'Kundin', 'Nr. ' || g, 'k' || g || '@example.org', 5 + g % 190, g % 2 FROM generate_series(1, 400) g;
		INSERT INTO actor (first_name, last_name) SELECT 'Ädam ' || g, 'Łast ' || g FROM generate_series(1, 200) g;
		INSERT INTO category (name) SELECT 'Kategorie ' || g FROM generate_series(1, 16) g;
		INSERT INTO film (title, description, release_year, language_id, rating, special_features)
			SELECT 'Film ' || g, E'Ein Film\nüber ' || g || ' Dinge', 1990 + g % 30, 1 + g % 3,
				(ARRAY['G', 'PG', 'PG-13', 'R', 'NC-17'])[1 + g % 5]::mpaa_rating, ARRAY['Trailers', 'Behind the Scenes']
			FROM generate_series(1, 300) g;
		INSERT INTO film_actor (actor_id, film_id) SELECT 1 + g % 200, 1 + g % 300 FROM generate_series(1, 600) g;
		INSERT INTO film_category (film_id, category_id) SELECT g, 1 + g % 16 FROM generate_series(1, 300) g;
		INSERT INTO inventory (film_id, store_id) SELECT 1 + g % 300, 1 + g % 2 FROM generate_series(1, 1000) g;
		INSERT INTO rental (rental_date, inventory_id, customer_id, return_date, staff_id)
			SELECT timestamptz '2022-01-01 00:00+00' + g * interval '13 hours', 1 + g % 1000, 1 + g % 400,
				timestamptz '2022-01-03 00:00+00' + g * interval '13 hours', 1 + g % 2
			FROM generate_series(1, 3000) g;
		INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
			SELECT customer_id, staff_id, rental_id, 0.99 + rental_id % 5, rental_date + interval '1 hour' FROM rental;
		REFRESH MATERIALIZED VIEW rental_by_category;`)
	want := countStar(t, pg, "pagila")
	if want[[2]string{"public", "rental"}] != 3000 {
		t.Fatalf("fixture: %v", want)
	}
	c := feed(t, dump(t, pg, client, "pagila", "--compress=0"), 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, c, want)
}

// A compressed archive (pg_dump's default) names its tables but cannot be
// counted: every table says so, and the archive is still read to its end.
func TestRealArchiveCompressed(t *testing.T) {
	client := pgDump15(t)
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "tricky")
	pg.Exec(t, "tricky", trickySQL)
	c := feed(t, dump(t, pg, client, "tricky"), 2)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Header(); !h.Compressed {
		t.Fatalf("header %+v", h)
	}
	tables := c.Tables()
	if len(tables) != len(countStar(t, pg, "tricky")) {
		t.Fatalf("tables %+v", tables)
	}
	for _, tb := range tables {
		if tb.Counted {
			t.Fatalf("%+v counted in a compressed archive", tb)
		}
	}
}

// An archive cut short anywhere but between data blocks is an error, not a
// count; INSERT data (--inserts) is not counted.
func TestRealArchiveTruncatedAndInserts(t *testing.T) {
	client := pgDump15(t)
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "tricky")
	pg.Exec(t, "tricky", trickySQL)
	archive := dump(t, pg, client, "tricky", "--compress=0")
	for _, cut := range []int{3, 40, len(archive) / 10, len(archive) - 1} {
		c := feed(t, archive[:cut], 3)
		if err := c.Close(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: Close = %v", cut, len(archive), err)
		}
	}
	c := feed(t, dump(t, pg, client, "tricky", "--compress=0", "--inserts"), 4)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range c.Tables() {
		if tb.Counted {
			t.Fatalf("%+v counted from INSERT statements", tb)
		}
	}
}
