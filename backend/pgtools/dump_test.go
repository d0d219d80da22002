package pgtools

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// client15 is the Debian PostgreSQL 15 client scripts/setup-deps.sh installs.
func client15(t *testing.T) Install {
	t.Helper()
	in, err := Pick(Discover(context.Background()), 15)
	if err != nil {
		t.Fatalf("%v (run `make test-deps`)", err)
	}
	if in.PgRestore == "" || in.Psql == "" {
		t.Fatalf("incomplete client install %+v", in)
	}
	return in
}

// A password with the characters a passfile must escape.
const readerPassword = `r3ad:er\pa:ss'"`

// dumpFixture is one PostgreSQL 15 cluster with database shop: a table readers
// can read, one they cannot, and a role "reader".
type dumpFixture struct {
	pg     *testenv.PG
	client Install
	reader Conn
}

func newDumpFixture(t *testing.T) *dumpFixture {
	t.Helper()
	pg := testenv.Postgres(t)
	// Passfiles land here, so the test can check they go. (After the server
	// starts: its unprivileged user cannot enter a test's temp dir.)
	t.Setenv("TMPDIR", t.TempDir())
	pg.CreateDB(t, "shop")
	pg.Exec(t, "shop", `
		CREATE TABLE orders (id int PRIMARY KEY, note text);
		INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 1000) g;
		CREATE TABLE secrets (id int);
		CREATE ROLE reader LOGIN PASSWORD '`+strings.ReplaceAll(readerPassword, "'", "''")+`';
		GRANT SELECT ON orders TO reader;`)
	return &dumpFixture{pg: pg, client: client15(t), reader: Conn{
		Host: pg.Host, Port: pg.Port, Database: "shop", User: "reader", Password: readerPassword, SSLMode: "disable",
	}}
}

func (f *dumpFixture) superuser(db string) Conn {
	return Conn{Host: f.pg.Host, Port: f.pg.Port, Database: db, User: f.pg.User, Password: f.pg.Password, SSLMode: "disable"}
}

// dumpAll runs Dump and reads it to the end.
func dumpAll(t *testing.T, exe string, c Conn, opts DumpOptions) ([]byte, error) {
	t.Helper()
	rc, err := Dump(context.Background(), exe, c, opts)
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	data, rerr := io.ReadAll(rc)
	if cerr := rc.Close(); rerr == nil && cerr != nil {
		t.Fatalf("Close after a clean read: %v", cerr)
	}
	return data, rerr
}

// restoreData returns the COPY data of one table of a custom-format archive.
func restoreData(t *testing.T, in Install, archive []byte, table string) []string {
	t.Helper()
	cmd := exec.Command(in.PgRestore, "--data-only", "--table="+table, "--file=-")
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	var rows []string
	inCopy := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "COPY "):
			inCopy = true
		case line == `\.`:
			inCopy = false
		case inCopy:
			rows = append(rows, line)
		}
	}
	return rows
}

func noPassfilesLeft(t *testing.T) {
	t.Helper()
	left, _ := os.ReadDir(os.TempDir())
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "pgsafe-pass-") {
			t.Errorf("passfile directory %s left behind", e.Name())
		}
	}
}

func TestDump(t *testing.T) {
	f := newDumpFixture(t)

	t.Run("round trip as a read-only role", func(t *testing.T) {
		reader := f.reader
		reader.Database = "shop"
		var mu sync.Mutex
		var tables []string
		pg := f.pg
		pg.Exec(t, "shop", "REVOKE SELECT ON secrets FROM PUBLIC; GRANT SELECT ON secrets TO reader;")
		defer pg.Exec(t, "shop", "REVOKE SELECT ON secrets FROM reader;")
		data, err := dumpAll(t, f.client.PgDump, reader, DumpOptions{OnTable: func(tb string) {
			mu.Lock()
			tables = append(tables, tb)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		if !bytes.HasPrefix(data, []byte("PGDMP")) {
			t.Fatalf("not a custom-format archive: %q", data[:min(16, len(data))])
		}
		if rows := restoreData(t, f.client, data, "orders"); len(rows) != 1000 || rows[0] != "1\torder 1" {
			t.Fatalf("restored %d rows of orders, first %q", len(rows), rows)
		}
		if strings.Join(tables, ",") != "public.orders,public.secrets" {
			t.Errorf("OnTable saw %q", tables)
		}
		noPassfilesLeft(t)
	})

	t.Run("sessions are read-only", func(t *testing.T) {
		c := f.superuser("shop")
		secret, err := newPassSecret(c.Password)
		if err != nil {
			t.Fatal(err)
		}
		defer secret.close()
		cmd := exec.Command(f.client.Psql, "-X", "-v", "ON_ERROR_STOP=1", "-c", "CREATE TABLE written (id int)")
		cmd.Env = c.environ(secret.attach(cmd))
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "read-only transaction") {
			t.Fatalf("a superuser write through PgSafe's environment was not refused: %v\n%s", err, out)
		}
		cfg, err := c.PgxConfig()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE TABLE written (id int)"); err == nil || !strings.Contains(err.Error(), "read-only transaction") {
			t.Fatalf("a superuser write through PgxConfig was not refused: %v", err)
		}
		c.AllowWrite = true
		cmd = exec.Command(f.client.Psql, "-X", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1")
		cmd.Env = c.environ(secret.attach(cmd))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("psql with the same passfile: %v\n%s", err, out)
		}
	})

	t.Run("snapshot", func(t *testing.T) {
		ctx := context.Background()
		tx, err := f.pg.Conn(t, "shop").Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			t.Fatal(err)
		}
		var snap string
		if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
			t.Fatal(err)
		}
		f.pg.Exec(t, "shop", "INSERT INTO orders SELECT g, 'late' FROM generate_series(1001, 1500) g")
		defer f.pg.Exec(t, "shop", "DELETE FROM orders WHERE id > 1000")
		data, err := dumpAll(t, f.client.PgDump, f.superuser("shop"), DumpOptions{Snapshot: snap})
		if err != nil {
			t.Fatalf("dump with snapshot: %v", err)
		}
		if rows := restoreData(t, f.client, data, "orders"); len(rows) != 1000 {
			t.Fatalf("the dump saw %d rows; the snapshot had 1000", len(rows))
		}
	})

	failures := []struct {
		name string
		conn func() Conn
		code Code
		want string
	}{
		{"wrong password", func() Conn { c := f.reader; c.Password = "not-the-password"; return c }, CodeAuth, "refused the password"},
		// scram does not tell an unknown user from a wrong password
		{"unknown user", func() Conn { c := f.reader; c.User = "nobody_here"; return c }, CodeAuth, "refused the password"},
		{"no database", func() Conn { c := f.reader; c.Database = "nope"; return c }, CodeNoDatabase, "does not exist"},
		{"no read access", func() Conn { return f.reader }, CodePermission, "cannot read secrets"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			data, err := dumpAll(t, f.client.PgDump, tc.conn(), DumpOptions{})
			var te *ToolError
			if !errors.As(err, &te) || te.Code != tc.code || !strings.Contains(te.Error(), tc.want) {
				t.Fatalf("got %d bytes and error %v; want code %s mentioning %q", len(data), err, tc.code, tc.want)
			}
			if strings.Contains(err.Error(), readerPassword) || strings.Contains(err.Error(), f.pg.Password) {
				t.Fatalf("the error shows a password: %v", err)
			}
			noPassfilesLeft(t)
		})
	}
}

func TestDumpCancel(t *testing.T) {
	f := newDumpFixture(t)
	f.pg.Exec(t, "shop", "CREATE TABLE big AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 200000) g")
	c := f.superuser("shop")

	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rc, err := Dump(ctx, f.client.PgDump, c, DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.ReadFull(rc, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = io.Copy(io.Discard, rc)
		var te *ToolError
		if !errors.As(err, &te) || te.Code != CodeCancelled {
			t.Fatalf("reading a cancelled dump ended with %v, want a cancelled ToolError", err)
		}
	})

	t.Run("close", func(t *testing.T) {
		rc, err := Dump(context.Background(), f.client.PgDump, c, DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rc, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- rc.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Close of a running dump: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Close did not stop pg_dump")
		}
		run := rc.(*toolRun)
		if run.cmd.ProcessState == nil || run.cmd.ProcessState.Success() {
			t.Fatalf("pg_dump state after Close: %v", run.cmd.ProcessState)
		}
		noPassfilesLeft(t)
	})
}

func TestDumpUnreachable(t *testing.T) {
	pg := testenv.Postgres(t)
	pg.Stop(t)
	c := Conn{Host: pg.Host, Port: pg.Port, Database: "postgres", User: "postgres", Password: "x", SSLMode: "disable", ConnectTimeout: 3 * time.Second}
	_, err := dumpAll(t, client15(t).PgDump, c, DumpOptions{})
	var te *ToolError
	if !errors.As(err, &te) || te.Code != CodeUnreachable {
		t.Fatalf("dump of a stopped server: %v", err)
	}
}

// A server newer than every pg_dump: Pick refuses with advice, and a pg_dump
// run anyway is explained, not left as "server version mismatch".
func TestDumpNewerServer(t *testing.T) {
	pg := testenv.Postgres(t, testenv.WithVersion(17))
	in := client15(t)
	if _, err := Pick([]Install{in}, pg.Major); err == nil {
		t.Fatalf("Pick chose pg_dump %s for PostgreSQL %d", in.Version, pg.Major)
	}
	c := Conn{Host: pg.Host, Port: pg.Port, Database: "postgres", User: pg.User, Password: pg.Password, SSLMode: "disable"}
	_, err := dumpAll(t, in.PgDump, c, DumpOptions{})
	var te *ToolError
	if !errors.As(err, &te) || te.Code != CodeVersionMismatch || !strings.Contains(te.Error(), "older than the server") {
		t.Fatalf("pg_dump 15 against PostgreSQL 17: %v", err)
	}
}

func TestConnRedacts(t *testing.T) {
	c := Conn{Host: "db.example.com", Port: 5432, Database: "shop", User: "app", Password: "hunter2-secret"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("Conn prints its password: %s", s)
		}
	}
	if got := escapePassfile(`a:b\c`); got != `a\:b\\c` {
		t.Fatalf("escapePassfile = %q", got)
	}
	if _, err := newPassSecret("two\nlines"); err == nil {
		t.Fatal("a password with a line break was accepted")
	}
}
