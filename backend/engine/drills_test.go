package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestDrillPolicyAndImport: the drill server is checked before it is kept
// and never shown with its password; automatic drills follow the policy
// (every 2nd backup here); a lone backup file, with or without its
// manifest, is imported on a second PgSafe and restored; a restore to the
// database's own server takes write credentials given at restore time.
func TestDrillPolicyAndImport(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv, folder, readerURL := shopOnNAS(t, e, 1500)

	if err := e.SetDrillServer(ctx, readerURL); err == nil || !strings.Contains(err.Error(), "cannot create databases") {
		t.Fatalf("a drill server role without CREATEDB: %v", err)
	}
	if err := e.SetDrillServer(ctx, srv.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	ds, err := e.DrillServer(ctx)
	if err != nil || !ds.Set || strings.Contains(ds.Address, srv.Password) || !strings.Contains(ds.Address, srv.User+"@") {
		t.Fatalf("drill server = %+v, %v", ds, err)
	}
	if err := e.SetDrillPolicy(ctx, "shop", DrillPolicy{EveryBackups: 2}); err != nil {
		t.Fatal(err)
	}
	if lc, err := e.LastCheck(ctx, "shop"); err != nil || !lc.When.IsZero() {
		t.Fatalf("last check before any = %+v, %v", lc, err)
	}

	drills := func() int {
		e.Wait()
		rs, err := e.store.Restores(ctx, store.RestoreFilter{Kind: store.RunDrill, DatabaseID: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Status != store.StatusSucceeded {
				t.Fatalf("drill %+v", r)
			}
		}
		return len(rs)
	}
	var last *store.Backup
	for i, want := range []int{1, 1, 2} { // never drilled: drill; then every 2nd backup
		if last, err = e.BackupNow(ctx, "shop", store.OriginScheduled, nil); err != nil {
			t.Fatal(err)
		}
		if got := drills(); got != want {
			t.Fatalf("after backup %d: %d drills, want %d", i+1, got, want)
		}
	}
	lc, err := e.LastCheck(ctx, "shop")
	if err != nil || lc.Kind != store.RunDrill || !lc.OK || lc.BackupID != last.ID {
		t.Fatalf("last check = %+v, %v", lc, err)
	}

	// Same server, credentials given now.
	rr, err := e.RestoreBackup(ctx, *last, RestoreTarget{SameServer: true, User: srv.User, Password: srv.Password, Database: "shop_same"}, RestoreOptions{NoOwner: true})
	if err != nil || rr.Database != "shop_same" || countOrders(t, srv, "shop_same") != 1500 {
		t.Fatalf("restore to the same server = %+v, %v", rr, err)
	}

	// A lone file on a second machine with the same key (its recovery kit).
	object := filepath.Join(folder, filepath.FromSlash(last.Copies[0].Object))
	lone, withManifest := t.TempDir(), t.TempDir()
	copyFile(t, object, filepath.Join(lone, "shop.pgsafe"))
	copyFile(t, object, filepath.Join(withManifest, "x.pgsafe"))
	copyFile(t, backup.ManifestOf(object), filepath.Join(withManifest, "x.manifest.pgsafe"))
	damaged := filepath.Join(t.TempDir(), "bad.pgsafe")
	copyFile(t, object, damaged)
	flipByte(t, damaged, 200)

	e2 := openSecond(t)
	b, err := e2.ImportFile(ctx, filepath.Join(lone, "shop.pgsafe"))
	if err != nil || b.ID != last.ID || b.Origin != store.OriginImport {
		t.Fatalf("import a lone file = %+v, %v", b, err)
	}
	m, _ := e2.Manifest(ctx, b)
	if m.RowsCounted || m.ServerMajor != srv.Major || m.DatabaseName != "shop" || len(m.Tables) != 1 || m.Tables[0].Name != "orders" {
		t.Fatalf("manifest learnt from the file: %+v", m)
	}
	if res, err := e2.VerifyBackup(ctx, b, ""); err != nil || !res.OK {
		t.Fatalf("verify the imported file = %+v, %v", res, err)
	}
	if _, err := e2.RestoreBackup(ctx, b, RestoreTarget{URL: srv.URL("shop_from_file")}, RestoreOptions{NoOwner: true}); err != nil || countOrders(t, srv, "shop_from_file") != 1500 {
		t.Fatalf("restore the imported file: %v", err)
	}
	if _, err := openSecond(t).ImportFile(ctx, damaged); err == nil || !strings.Contains(err.Error(), "chunk") {
		t.Fatalf("import a damaged file: %v", err)
	}
	e3 := openSecond(t)
	b, err = e3.ImportFile(ctx, filepath.Join(withManifest, "x.pgsafe"))
	if m, _ := e3.Manifest(ctx, b); err != nil || !m.RowsCounted || m.Tables[0].Rows != 1500 {
		t.Fatalf("import with the manifest beside it = %+v, %v", m, err)
	}
}

func countOrders(t *testing.T, srv *testenv.PG, db string) int {
	t.Helper()
	var n int
	if err := srv.Conn(t, db).QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openSecond opens another engine on its own settings directory, with the
// same keychain (the key a recovery kit brings).
func openSecond(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.audit = &memAuditor{}
	return e
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0x40
	f.WriteAt(b, at)
}

// TestDueDrills: a drill every 7 days runs on its own when due, not again
// until 7 days later, and not at all without a drill server or local
// server programs.
func TestDueDrills(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 50);`)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: srv.URL("shop"), StorageNames: []string{"nas"}, CountRows: true}, AddOptions{AllowWriteAccess: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.SetDrillPolicy(ctx, "shop", DrillPolicy{EveryDays: 7}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e.drillServerDirs = []string{} // no server programs on this computer either
	if n := e.RunDueDrills(ctx, now); n != 0 {
		t.Fatalf("%d drills without a drill server or server programs", n)
	}
	if err := e.SetDrillServer(ctx, srv.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Time
		want int
	}{{now, 1}, {now.Add(24 * time.Hour), 0}, {now.Add(8 * 24 * time.Hour), 1}} {
		if n := e.RunDueDrills(ctx, step.at); n != step.want {
			t.Fatalf("at %s: %d drills, want %d", step.at, n, step.want)
		}
	}
	if lc, err := e.LastCheck(ctx, "shop"); err != nil || lc.Kind != store.RunDrill || !lc.OK {
		t.Fatalf("last check %+v, %v", lc, err)
	}
}
