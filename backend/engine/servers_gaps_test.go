package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// serverOnNAS is a cluster with databases dbs (a table of 10 rows each), a
// role reader that reads everything, a local storage nas and a server entry
// prod of the cluster (postgres excluded).
func serverOnNAS(t *testing.T, e *Engine, dbs ...string) (srv *testenv.PG, folder string) {
	t.Helper()
	ctx := context.Background()
	srv = testenv.Postgres(t)
	for _, db := range dbs {
		srv.CreateDB(t, db)
		srv.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 10);`)
	}
	srv.Exec(t, "postgres", `CREATE ROLE reader LOGIN PASSWORD 'reader-pw-58'; GRANT pg_read_all_data TO reader`)
	folder = t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(srv.URL("postgres"), srv.User+":"+srv.Password, "reader:reader-pw-58", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "prod", URL: url, StorageNames: []string{"nas"},
		AllDatabases: true, Exclude: []string{"postgres"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	return srv, folder
}

// TestServerRunNotifications: a run of a server entry notifies once for the
// run, not once per database; a database is told about on its own only
// when its outcome changed (it failed after succeeding, or came back).
func TestServerRunNotifications(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []notify.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body %q: %v", body, err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "ops", Kind: store.NotifierWebhook, Enabled: true,
		Events:   []string{notify.EventBackupFailed, notify.EventBackupSucceeded, notify.EventStorageNearlyFull},
		Settings: map[string]string{"url": hook.URL}}); err != nil {
		t.Fatal(err)
	}
	// sent is what the webhook heard for one run: a marker sent after it
	// arrives after everything the run sent (a notifier's events are
	// delivered in order).
	marks := 0
	sent := func() []notify.Event {
		t.Helper()
		marks++
		marker := "marker " + string(rune('0'+marks))
		e.notify(notify.Event{Kind: notify.EventStorageNearlyFull, Title: marker})
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for i, ev := range got {
				if ev.Title == marker {
					out := got[:i]
					got = nil
					mu.Unlock()
					return out
				}
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the marker never arrived; got %+v", got)
		return nil
	}
	titles := func(evs []notify.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.Kind+" "+ev.Title)
		}
		return out
	}

	srv, _ := serverOnNAS(t, e, "app", "billing", "crm")
	if _, err := e.BackupNow(ctx, "prod", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	evs := sent()
	if len(evs) != 1 || evs[0].Kind != notify.EventBackupSucceeded || evs[0].Title != "Server prod: 3 of 3 databases backed up" ||
		!strings.Contains(evs[0].Body, "New since the last run: app, billing, crm") {
		t.Fatalf("run 1 (all backed up) sent %q: %+v", titles(evs), evs)
	}

	// billing fails: the run says so once, and billing changed state.
	srv.Exec(t, "postgres", `REVOKE CONNECT ON DATABASE billing FROM PUBLIC`)
	if _, err := e.BackupNow(ctx, "prod", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	evs = sent()
	if len(evs) != 2 || evs[0].Kind != notify.EventBackupFailed || evs[0].Title != "Server prod: 2 of 3 databases backed up" ||
		!strings.Contains(evs[0].Body, "billing failed: ") || evs[1].Kind != notify.EventBackupFailed || evs[1].Database != "prod/billing" {
		t.Fatalf("run 2 (billing failed) sent %q: %+v", titles(evs), evs)
	}
	// The status model still has billing's own state.
	all, err := e.Status(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all.Databases {
		bad := d.State == status.Failing || d.State == status.Unprotected
		if d.Name == "prod/billing" && !bad || d.Name == "prod/app" && bad {
			t.Errorf("status of %s: %+v", d.Name, d)
		}
	}

	// Still failing: nothing changed but the run's own notification.
	if _, err := e.BackupNow(ctx, "prod", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	if evs = sent(); len(evs) != 1 || evs[0].Title != "Server prod: 2 of 3 databases backed up" {
		t.Fatalf("run 3 (billing still failing) sent %q", titles(evs))
	}

	// billing is back: the run succeeds, and billing's return is told.
	srv.Exec(t, "postgres", `GRANT CONNECT ON DATABASE billing TO PUBLIC`)
	if _, err := e.BackupNow(ctx, "prod", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	evs = sent()
	if len(evs) != 2 || evs[0].Kind != notify.EventBackupSucceeded || evs[0].Title != "Server prod: 3 of 3 databases backed up" ||
		evs[1].Kind != notify.EventBackupSucceeded || evs[1].Database != "prod/billing" {
		t.Fatalf("run 4 (billing back) sent %q", titles(evs))
	}
}

// TestServerRunRetention: retention prunes a run's manifest and roles file
// once every backup it lists is deleted, and keeps a run manifest that still
// lists a kept backup.
func TestServerRunRetention(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv, folder := serverOnNAS(t, e, "app", "billing")
	if err := e.SetRetention(ctx, "prod", store.RetentionPolicy{KeepLast: 1}); err != nil {
		t.Fatal(err)
	}
	prod, err := e.store.DatabaseByName(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	runFile := func(b *store.Backup) string {
		return filepath.Join(folder, strconv.FormatInt(prod.ID, 10), b.ID+".run.pgsafe")
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	backUp := func() *store.Backup {
		t.Helper()
		b, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	r1 := backUp()
	m1 := runOf(t, r1)
	if m1.Globals == nil || !exists(runFile(r1)) || !exists(filepath.Join(folder, m1.Globals.Object)) {
		t.Fatalf("run 1's manifest or roles are not in the storage: %+v", m1.Globals)
	}
	r2 := backUp()
	// Both databases' backups of run 1 are deleted (keep last 1): so is the
	// run's manifest, and its roles.
	if exists(runFile(r1)) || exists(filepath.Join(folder, m1.Globals.Object)) {
		t.Errorf("run 1's manifest or roles are left though every backup it lists was deleted")
	}
	if !exists(runFile(r2)) {
		t.Fatal("run 2's manifest was deleted")
	}
	if b, err := e.store.Backup(ctx, r1.ID); err != nil || b.Shown() != store.StatusPruned {
		t.Errorf("run 1's record: %s (%v), want pruned", b.Shown(), err)
	}
	audit.mu.Lock()
	audited := slices.ContainsFunc(audit.events, func(ev Event) bool {
		return ev.Action == "backup.deleted" && ev.Target == "prod" && ev.Fields["backup_id"] == r1.ID
	})
	audit.mu.Unlock()
	if !audited {
		t.Errorf("the run's deletion was not audited: %s", audit.actions())
	}

	// billing cannot be backed up in run 3: its run-2 backup is kept, and
	// with it run 2's manifest, though app's backup of run 2 is deleted.
	srv.Exec(t, "postgres", `REVOKE CONNECT ON DATABASE billing FROM PUBLIC`)
	r3 := backUp()
	if m3 := runOf(t, r3); len(m3.Failed()) != 1 {
		t.Fatalf("run 3: %+v", m3.Databases)
	}
	if !exists(runFile(r2)) || !exists(filepath.Join(folder, runOf(t, r2).Globals.Object)) {
		t.Error("run 2's manifest or roles were deleted though it lists billing's kept backup")
	}
	if !exists(runFile(r3)) {
		t.Error("run 3's manifest is missing")
	}
}

// TestServerDatabasesDifferingInCase: databases Shop and shop on one server
// are both backed up: entry names ignore case, so the second is "prod/shop
// (2)", and it keeps that entry in later runs.
func TestServerDatabasesDifferingInCase(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	serverOnNAS(t, e, "Shop", "shop")
	for run := 1; run <= 2; run++ {
		b, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := runDatabases(runOf(t, b))
		if b.Error != "" || got["Shop"].Status != "succeeded" || got["shop"].Status != "succeeded" ||
			got["Shop"].Entry != "prod/Shop" || got["shop"].Entry != "prod/shop (2)" || got["shop"].New != (run == 1) {
			t.Fatalf("run %d: %q, %+v", run, b.Error, got)
		}
	}
	for name, db := range map[string]string{"prod/Shop": "Shop", "prod/shop (2)": "shop"} {
		d, err := e.store.DatabaseByName(ctx, name)
		if err != nil || d.Name != name || d.DBName != db {
			t.Errorf("entry %s: %+v, %v", name, d, err)
		}
		if bs, err := e.Backups(ctx, name, 0); err != nil || len(bs) != 2 || bs[0].Status != store.StatusSucceeded {
			t.Errorf("%s history: %d, %v", name, len(bs), err)
		}
	}
	audit.mu.Lock()
	said := slices.ContainsFunc(audit.events, func(ev Event) bool {
		return ev.Action == "database.created" && ev.Target == "prod/shop (2)" && strings.Contains(ev.Message, "prod/Shop is taken")
	})
	audit.mu.Unlock()
	if !said {
		t.Error("the audit log does not say why shop is prod/shop (2)")
	}
}

// The tray lists a server entry once, in its (worst) state, with its
// databases under it, and counts entries: a failing database of a server
// makes one failing entry (the server), not two.
func TestSummaryByEntry(t *testing.T) {
	sum := Summary{Lines: []StateLine{
		{Database: "prod", State: status.Failing, Reason: "billing (failing)"},
		{Database: "prod/app", Server: "prod", State: status.Protected},
		{Database: "prod/billing", Server: "prod", State: status.Failing, Reason: "The last backup failed"},
		{Database: "shop", State: status.Attention, Reason: "No backup of it has been verified yet"},
	}}
	got := sum.ByEntry()
	if !slices.Equal(got.Databases, []string{"prod", "shop"}) || !slices.Equal(got.Failing, []string{"prod"}) || !slices.Equal(got.Attention, []string{"shop"}) {
		t.Errorf("names %q, failing %q, attention %q", got.Databases, got.Failing, got.Attention)
	}
	if got.Reason != "billing (failing)" || got.Worst != status.Failing {
		t.Errorf("worst %s, reason %q, want the server's", got.Worst, got.Reason)
	}
	if l := got.Lines; len(l) != 2 || l[0].Database != "prod" || len(l[0].Databases) != 2 || l[0].Databases[1].Database != "prod/billing" ||
		l[0].Databases[1].State != status.Failing || len(l[1].Databases) != 0 {
		t.Errorf("lines %+v", l)
	}
}

// TestRestoreMissingTablespace: a backup with a table in a tablespace the
// target server lacks stops before anything is written, saying which and
// offering to restore without tablespaces; with NoTablespaces it restores,
// every row there, into the target's default tablespace.
func TestRestoreMissingTablespace(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	// The tablespace's directory belongs to the server's user (PostgreSQL
	// warns that it is inside the data directory, which is fine here).
	dir := filepath.Join(srv.DataDir, "ts_fast")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(srv.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Chown(dir, int(st.Uid), int(st.Gid)); err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "postgres", "CREATE TABLESPACE fast LOCATION '"+dir+"'")
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY) TABLESPACE fast; INSERT INTO orders SELECT generate_series(1, 40);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-77'; GRANT pg_read_all_data TO reader;`)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-77", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}, CountRows: true}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}

	srv2 := testenv.Postgres(t)
	_, err = e.RestoreBackup(ctx, *b, RestoreTarget{URL: srv2.URL("shop")}, RestoreOptions{NoOwner: true, NoPrivileges: true})
	var rp *restore.RolesProblem
	if !errors.As(err, &rp) || !slices.Equal(rp.MissingTablespaces, []string{"fast"}) ||
		!strings.Contains(err.Error(), "tablespace the target server lacks: fast") || !strings.Contains(err.Error(), "restore without tablespaces") {
		t.Fatalf("restore into a server without the tablespace: %v (%+v)", err, rp)
	}
	var n int
	if err := srv2.Conn(t, "postgres").QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = 'shop'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused restore created the database (%d, %v)", n, err)
	}
	rr, err := e.RestoreBackup(ctx, *b, RestoreTarget{URL: srv2.URL("shop")}, RestoreOptions{NoOwner: true, NoPrivileges: true, NoTablespaces: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Rows.Match() || rr.Rows.Tables != 1 {
		t.Errorf("restored rows %+v", rr.Rows)
	}
	var ts string
	if err := srv2.Conn(t, "shop").QueryRow(ctx, "SELECT coalesce(tablespace, '') FROM pg_tables WHERE tablename = 'orders'").Scan(&ts); err != nil || ts != "" {
		t.Errorf("orders restored into tablespace %q (%v), want the default", ts, err)
	}
}
