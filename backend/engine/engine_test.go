package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// memAuditor keeps events, to check what was audited.
type memAuditor struct {
	mu     sync.Mutex
	events []Event
}

func (m *memAuditor) Record(_ context.Context, ev Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return nil
}

func (m *memAuditor) actions() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		out = append(out, e.Action+":"+e.Outcome)
	}
	return strings.Join(out, ",")
}

// newEngine opens an engine on a fresh settings directory and a real
// (private) Secret Service keychain, where the master key is created.
func newEngine(t *testing.T) (*Engine, *memAuditor) {
	t.Helper()
	testenv.Keychain(t)
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	e, err := Open(context.Background(), Options{Home: home, CreateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	a := &memAuditor{}
	e.audit = a
	return e, a
}

func TestDatabases(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-42'; GRANT SELECT ON orders TO reader;`)
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-42", 1)

	res, err := e.AddDatabase(ctx, DatabaseInput{Name: "Shop", URL: url, CountRows: true}, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report == nil || res.Report.Verdict == pg.VerdictWriteAccess || res.Server.Major != 15 {
		t.Fatalf("add result %+v", res)
	}
	dbs, err := e.Databases(ctx)
	if err != nil || len(dbs) != 1 || dbs[0].Name != "Shop" || dbs[0].Password.HasValue() || !dbs[0].Password.IsSet() {
		t.Fatalf("Databases = %+v, %v", dbs, err)
	}

	// The superuser can write: refused unless accepted, and both are audited.
	_, err = e.AddDatabase(ctx, DatabaseInput{Name: "Shop admin", URL: srv.URL("shop")}, AddOptions{})
	var wa *WriteAccessError
	if !errors.As(err, &wa) || !strings.Contains(err.Error(), "can change data") {
		t.Fatalf("adding a superuser: %v", err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "Shop admin", URL: srv.URL("shop")}, AddOptions{AllowWriteAccess: true}); err != nil {
		t.Fatal(err)
	}
	chk, err := e.CheckDatabase(ctx, "Shop admin")
	if err != nil || chk.Report.Verdict != pg.VerdictWriteAccess {
		t.Fatalf("CheckDatabase = %+v, %v", chk, err)
	}
	if err := e.RemoveDatabase(ctx, "Shop admin"); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveDatabase(ctx, "Shop admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	want := "database.created:ok,database.write_access_refused:denied,database.created:ok,database.write_access_accepted:ok,database.checked:ok,database.deleted:ok"
	if got := audit.actions(); got != want {
		t.Fatalf("audited %s\nwant     %s", got, want)
	}
	for _, ev := range audit.events {
		for k, v := range ev.Fields {
			if strings.Contains(v, "reader-pw-42") || strings.Contains(v, srv.Password) {
				t.Fatalf("audit field %s holds a password", k)
			}
		}
	}
}

// shopOnNAS is where most engine tests start: a new cluster with a "shop"
// database (orders: rows rows), a read-only role "reader", a folder storage
// "nas", and the database added as "shop" backing up to it, counting rows.
func shopOnNAS(t *testing.T, e *Engine, rows int) (srv *testenv.PG, folder, readerURL string) {
	t.Helper()
	ctx := context.Background()
	srv = testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", fmt.Sprintf(`CREATE TABLE orders (id int PRIMARY KEY, total numeric);
		INSERT INTO orders SELECT g, g * 2 FROM generate_series(1, %d) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-31'; GRANT SELECT ON orders TO reader;`, rows))
	folder = t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	readerURL = strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-31", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: readerURL, StorageNames: []string{"nas"}, CountRows: true}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	return srv, folder, readerURL
}
