package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestRestoreRequestTarget(t *testing.T) {
	cases := []struct {
		name    string
		req     RestoreRequest
		replace bool
		err     string
	}{
		{"new database on the same server", RestoreRequest{Target: "same", User: "admin", Password: "pw", Database: "shop_restored"}, false, ""},
		{"replace needs the name typed", RestoreRequest{Target: "replace", User: "admin", Database: "shop", Confirm: "shp"}, false, "type the name of the database to replace (shop)"},
		{"replace confirmed", RestoreRequest{Target: "replace", User: "admin", Database: "shop", Confirm: "shop"}, true, ""},
		{"same server needs a user", RestoreRequest{Target: "same", Database: "x"}, false, "give a user with write access"},
		{"a new name that needs quoting", RestoreRequest{Target: "same", User: "admin", Database: "Shop Copy"}, false, `"Shop Copy" would need quoting in SQL: use lowercase letters, digits and _ only`},
		{"a new name PostgreSQL would cut", RestoreRequest{Target: "same", User: "admin", Database: strings.Repeat("a", 64)}, false, "PostgreSQL keeps 63 at most"},
		{"an existing name is replaced as it is", RestoreRequest{Target: "replace", User: "admin", Database: "Shop", Confirm: "Shop"}, true, ""},
		{"url needs a URL", RestoreRequest{Target: "url"}, false, "postgres://user:password@host"},
		{"unknown target", RestoreRequest{Target: "elsewhere"}, false, "is not a restore target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to, replace, err := tc.req.target()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || replace != tc.replace || (tc.req.Target != "url") != to.SameServer || to.Password != tc.req.Password {
				t.Fatalf("target = %+v, replace %v, err %v", to, replace, err)
			}
		})
	}
}

// A restore started from the window reports the bytes it read up to the
// stored size, and ends with the rows compared, a connection string without
// the password, and no password anywhere in its events.
func TestRestoreThroughTheWindow(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	c := NewCore(nil)
	var mu sync.Mutex
	var progress []RestoreProgress
	finished := make(chan RestoreFinished, 1)
	var events []string
	c.SetEmitter(func(event string, data any) {
		mu.Lock()
		defer mu.Unlock()
		js, _ := json.Marshal(data)
		events = append(events, string(js))
		switch v := data.(type) {
		case RestoreProgress:
			progress = append(progress, v)
		case RestoreFinished:
			finished <- v
		}
	})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	e, err := c.engine()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers SELECT g, md5(g::text) FROM generate_series(1, 120) g;
		CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers); INSERT INTO orders SELECT g, 1 + g % 120 FROM generate_series(1, 700) g;
		CREATE ROLE reader LOGIN PASSWORD 'ui-reader-pw-8'; GRANT SELECT ON customers, orders TO reader;`)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "disk", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	reader := fmt.Sprintf("postgres://reader:ui-reader-pw-8@127.0.0.1:%d/shop?sslmode=disable", srv.Port)
	if _, err := e.AddDatabase(ctx, engine.DatabaseInput{Name: "Shop", URL: reader, StorageNames: []string{"disk"}, CountRows: true}, engine.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "Shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}

	s := NewRestoreService(c)
	if err := s.Start(RestoreRequest{BackupID: b.ID, Target: "same", User: srv.User, Password: srv.Password, Database: "shop_restored_20261206_1402", Jobs: 1, NoOwner: true}); err != nil {
		t.Fatal(err)
	}
	var done RestoreFinished
	select {
	case done = <-finished:
	case <-time.After(2 * time.Minute):
		t.Fatal("no restore:finished")
	}
	mu.Lock()
	defer mu.Unlock()
	if !done.OK || done.Rows == nil || !done.Rows.Match() || done.Rows.Tables != 2 || len(done.Notes) != 0 {
		t.Fatalf("finished %+v", done)
	}
	if want := fmt.Sprintf("postgres://%s@127.0.0.1:%d/shop_restored_20261206_1402", srv.User, srv.Port); done.Connection != want {
		t.Fatalf("connection %q, want %q", done.Connection, want)
	}
	last := progress[len(progress)-1]
	if last.ReadBytes != b.StoredSize || last.Total != b.StoredSize {
		t.Fatalf("last progress %+v, stored size %d", last, b.StoredSize)
	}
	for _, ev := range events {
		if strings.Contains(ev, srv.Password) {
			t.Fatalf("an event holds the password: %s", ev)
		}
	}
}
