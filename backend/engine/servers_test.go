package engine

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestPlanServer(t *testing.T) {
	gone := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	children := []store.Database{
		{ID: 1, DatabaseConfig: store.DatabaseConfig{Name: "s/app", DBName: "app"}},
		{ID: 2, DatabaseConfig: store.DatabaseConfig{Name: "s/old", DBName: "old"}},
		{ID: 3, DatabaseConfig: store.DatabaseConfig{Name: "s/back", DBName: "back", Gone: gone}},
		{ID: 4, DatabaseConfig: store.DatabaseConfig{Name: "s/logs", DBName: "logs"}},
	}
	p := planServer([]string{"app", "back", "logs", "new", "postgres"}, []string{"logs", "postgres"}, children)
	if !slices.Equal(p.Include, []string{"app", "back", "new"}) || !slices.Equal(p.New, []string{"new"}) {
		t.Errorf("include %v, new %v", p.Include, p.New)
	}
	var goneIDs []int64
	for _, g := range p.Gone {
		goneIDs = append(goneIDs, g.ID)
	}
	if !slices.Equal(goneIDs, []int64{2, 4}) { // dropped, and now excluded
		t.Errorf("gone %v", goneIDs)
	}
	if len(p.Returned) != 1 || p.Returned[0].ID != 3 {
		t.Errorf("returned %+v", p.Returned)
	}
	if p := planServer(nil, nil, nil); len(p.Include)+len(p.New)+len(p.Gone)+len(p.Returned) != 0 {
		t.Errorf("empty plan %+v", p)
	}
}

// runOf returns a run record's manifest, failing the test when it is not
// one.
func runOf(t *testing.T, b *store.Backup) *backup.RunManifest {
	t.Helper()
	m, ok := RunOf(*b)
	if !ok {
		t.Fatalf("backup %s holds no run manifest: %s", b.ID, b.Manifest)
	}
	return m
}

func runDatabases(m *backup.RunManifest) map[string]backup.RunDatabase {
	out := map[string]backup.RunDatabase{}
	for _, d := range m.Databases {
		out[d.Database] = d
	}
	return out
}

// TestServerEntry is a server entry over three runs against a real
// cluster: three databases found (one excluded, never dumped), dumped two
// at a time; a database added and one dropped between runs (included and
// said so; reported, its backups kept and restorable); a database the role
// cannot connect to fails alone and the run is partial; the status model
// says each.
func TestServerEntry(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv, folder, _ := shopOnNAS(t, e, 10)
	for _, db := range []string{"app", "crm", "logs"} {
		srv.CreateDB(t, db)
		srv.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 25);`)
	}
	srv.Exec(t, "postgres", `GRANT pg_read_all_data TO reader`)
	url := strings.Replace(srv.URL("postgres"), srv.User+":"+srv.Password, "reader:reader-pw-31", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "prod", URL: url, StorageNames: []string{"nas"}, CountRows: true,
		AllDatabases: true, Exclude: []string{"logs", "postgres"}, Parallel: 2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}

	// Parallel 2: app's dump waits for a lock the test holds until two
	// other databases' backups have finished, which only happens when two
	// run at once.
	lock := srv.Conn(t, "app")
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE items IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	finished := map[string]bool{}
	released := make(chan struct{})
	unsubscribe := e.Subscribe(func(ev JobEvent) {
		if ev.Type != EventJobFinished || ev.Job != JobBackup || !strings.HasPrefix(ev.Database, "prod/") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		finished[ev.Database] = true
		if finished["prod/crm"] && finished["prod/shop"] && !finished["prod/app"] && released != nil {
			close(released)
			released = nil
		}
	})
	go func() {
		select {
		case <-released:
		case <-time.After(2 * time.Minute): // bounds a failure only: the run then fails the assertion below
		}
		tx.Rollback(context.Background())
	}()
	b1, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
	unsubscribe()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if released != nil {
		t.Errorf("prod/crm and prod/shop did not both finish while prod/app waited: not two at a time (%v)", finished)
	}
	mu.Unlock()
	m1 := runOf(t, b1)
	got := runDatabases(m1)
	if b1.StoredSize != got["app"].StoredSize+got["crm"].StoredSize+got["shop"].StoredSize || got["app"].StoredSize == 0 {
		t.Errorf("run 1 stored %d bytes, its databases %+v", b1.StoredSize, m1.Databases)
	}
	if b1.Status != store.StatusSucceeded || b1.Error != "" || len(m1.Databases) != 3 {
		t.Fatalf("run 1: %s %q, %+v", b1.Status, b1.Error, m1.Databases)
	}
	for _, db := range []string{"app", "crm", "shop"} {
		d := got[db]
		if d.Status != "succeeded" || !d.New || d.Entry != "prod/"+db || d.BackupID == "" {
			t.Errorf("run 1, %s: %+v", db, d)
		}
	}
	if _, ok := got["logs"]; ok {
		t.Error("the excluded database logs was backed up")
	}
	appearedAt := func() []string {
		t.Helper()
		o, err := e.Status(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range o.Databases {
			if d.Name == "prod" {
				return d.Appeared
			}
		}
		t.Fatalf("no status of prod in %+v", o.Databases)
		return nil
	}
	if a := appearedAt(); len(a) != 0 {
		t.Errorf("after the first run, appeared %v: every database is new then, none is news", a)
	}
	// The run's manifest is in the storage, encrypted, and lists them.
	parent, err := e.store.DatabaseByName(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	runFile := filepath.Join(folder, strconv.FormatInt(parent.ID, 10), b1.ID+".run.pgsafe")
	raw, err := os.ReadFile(runFile)
	if err != nil {
		t.Fatalf("run manifest: %v", err)
	}
	if strings.Contains(string(raw), "prod/app") {
		t.Fatal("the run manifest is stored in plaintext")
	}
	f, _ := os.Open(runFile)
	plain, _, err := format.NewReader(f, keys.Keys{e.key})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if _, err := io.Copy(&sb, plain); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if rm, err := backup.ParseRunManifest([]byte(sb.String())); err != nil || len(rm.Databases) != 3 || rm.RunID != b1.ID {
		t.Fatalf("stored run manifest: %+v, %v", rm, err)
	}
	// The server's roles, captured once, beside the run and each backup.
	if m1.Globals == nil || !slices.Contains(m1.Globals.Roles, "reader") || m1.GlobalsMissing != "" {
		t.Fatalf("run globals %+v, missing %q", m1.Globals, m1.GlobalsMissing)
	}
	if _, err := os.Stat(filepath.Join(folder, m1.Globals.Object)); err != nil {
		t.Fatal(err)
	}
	// Each database's backup is a backup of its own entry.
	crmBackups, err := e.Backups(ctx, "prod/crm", 0)
	if err != nil || len(crmBackups) != 1 || crmBackups[0].ID != got["crm"].BackupID || crmBackups[0].Status != store.StatusSucceeded {
		t.Fatalf("prod/crm history %+v, %v", crmBackups, err)
	}
	if cm, err := e.Manifest(ctx, crmBackups[0]); err != nil || cm.Globals == nil || cm.Globals.SHA256 != m1.Globals.SHA256 && !slices.Equal(cm.Globals.Roles, m1.Globals.Roles) {
		t.Fatalf("prod/crm's backup holds no globals of its own: %+v, %v", cm, err)
	}
	for _, name := range []string{"prod/logs", "prod/postgres"} {
		if _, err := e.store.DatabaseByName(ctx, name); err == nil {
			t.Errorf("%s exists though excluded", name)
		}
	}

	// Between two runs: billing appears, crm is dropped. One at a time now.
	one := 1
	if _, err := e.UpdateDatabase(ctx, "prod", DatabaseEdit{Parallel: &one}, EditOptions{}); err != nil {
		t.Fatal(err)
	}
	// The server entry's retention applies to each of its databases; a
	// database of it has no policy of its own.
	if err := e.SetRetention(ctx, "prod/app", store.RetentionPolicy{KeepLast: 1}); err == nil || !strings.Contains(err.Error(), "server entry prod") {
		t.Errorf("retention of a server's database: %v", err)
	}
	if err := e.SetRetention(ctx, "prod", store.RetentionPolicy{KeepLast: 1}); err != nil {
		t.Fatal(err)
	}
	srv.CreateDB(t, "billing")
	srv.Exec(t, "billing", `CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1), (2);`)
	srv.Exec(t, "postgres", `DROP DATABASE crm`)
	var running, most int
	unsubscribe = e.Subscribe(func(ev JobEvent) {
		if ev.Job != JobBackup || !strings.HasPrefix(ev.Database, "prod/") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case EventJobStarted:
			running++
			most = max(most, running)
		case EventJobFinished:
			running--
		}
	})
	b2, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
	unsubscribe()
	if err != nil {
		t.Fatal(err)
	}
	if most != 1 {
		t.Errorf("with Parallel 1, %d backups ran at once", most)
	}
	m2 := runOf(t, b2)
	got = runDatabases(m2)
	if b2.Status != store.StatusSucceeded || b2.Error != "" || len(m2.Databases) != 3 {
		t.Fatalf("run 2: %s %q, %+v", b2.Status, b2.Error, m2.Databases)
	}
	if d := got["billing"]; !d.New || d.Status != "succeeded" {
		t.Errorf("billing: %+v", d)
	}
	if d := got["app"]; d.New || d.Status != "succeeded" {
		t.Errorf("app in run 2: %+v", d)
	}
	if a := appearedAt(); !slices.Equal(a, []string{"prod/billing"}) {
		t.Errorf("after run 2, appeared %v, want [prod/billing]", a)
	}
	appBackups, err := e.Backups(ctx, "prod/app", 0)
	if err != nil || len(appBackups) != 2 || appBackups[1].Copies[0].Status != store.CopyDeleted || appBackups[0].Copies[0].Status != store.CopyWritten {
		t.Errorf("prod/app after run 2 with keep-last 1: %+v, %v", appBackups, err)
	}
	if err := e.SetRetention(ctx, "prod", store.RetentionPolicy{}); err != nil { // keep run 2 whole, to restore it below
		t.Fatal(err)
	}
	if !slices.Equal(m2.Gone, []string{"crm"}) {
		t.Errorf("gone %v", m2.Gone)
	}
	if !strings.Contains(audit.actions(), "database.gone:") {
		t.Errorf("crm's going was not audited: %s", audit.actions())
	}
	// crm's backup is kept and restores, with its rows checked.
	crm, err := e.store.DatabaseByName(ctx, "prod/crm")
	if err != nil || crm.Gone.IsZero() {
		t.Fatalf("prod/crm: %+v, %v", crm, err)
	}
	if _, err := e.BackupNow(ctx, "prod/crm", store.OriginManual, nil); err == nil || !strings.Contains(err.Error(), "no longer on its server") {
		t.Errorf("backing up a gone database: %v", err)
	}
	crmBackups, err = e.Backups(ctx, "prod/crm", 0)
	if err != nil || len(crmBackups) != 1 {
		t.Fatalf("prod/crm history after it went: %+v, %v", crmBackups, err)
	}
	rr, err := e.RestoreBackup(ctx, crmBackups[0], RestoreTarget{URL: srv.URL("crm_restored")}, RestoreOptions{NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Rows.Match() || rr.Rows.Tables != 1 {
		t.Errorf("crm restored: rows %+v", rr.Rows)
	}
	// The run itself is not a backup to restore: it says which to restore.
	if _, err := e.RestoreBackup(ctx, *b2, RestoreTarget{URL: srv.URL("x")}, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "prod/DATABASE") {
		t.Errorf("restoring a run: %v", err)
	}

	// A database the role cannot connect to fails alone: the run is partial.
	srv.CreateDB(t, "secret")
	srv.Exec(t, "postgres", `REVOKE CONNECT ON DATABASE secret FROM PUBLIC`)
	b3, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	m3 := runOf(t, b3)
	got = runDatabases(m3)
	if b3.Status != store.StatusSucceeded || !strings.Contains(b3.Error, "4 of 5 databases backed up; secret:") {
		t.Errorf("run 3: %s %q", b3.Status, b3.Error)
	}
	if d := got["secret"]; d.Status != "failed" || !strings.Contains(d.Error, "permission denied") {
		t.Errorf("secret: %+v", d)
	}
	for _, db := range []string{"app", "billing", "shop", "crm_restored"} {
		if got[db].Status != "succeeded" {
			t.Errorf("%s in run 3: %+v", db, got[db])
		}
	}
	secretBackups, err := e.Backups(ctx, "prod/secret", 0)
	if err != nil || len(secretBackups) != 1 || secretBackups[0].Status != store.StatusFailed {
		t.Fatalf("prod/secret history %+v, %v", secretBackups, err)
	}

	// The status model: one state per database, the server's the worst.
	all, err := e.Status(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]DatabaseStatus{}
	for _, d := range all.Databases {
		states[d.Name] = d
	}
	if s := states["prod/crm"]; s.Server != "prod" || s.State != status.Attention || len(s.Reasons) != 1 || s.Reasons[0].Code != status.CodeGone {
		t.Errorf("prod/crm status %+v", s)
	}
	if s := states["prod/secret"]; s.State != status.Unprotected || s.Server != "prod" {
		t.Errorf("prod/secret status %+v", s)
	}
	s := states["prod"]
	if !s.AllDatabases || s.State != status.Unprotected || len(s.Reasons) == 0 || s.Reasons[0].Code != status.CodeDatabases ||
		!strings.Contains(s.Reasons[0].Message, "secret (not backed up yet)") || !strings.Contains(s.Reasons[0].Message, "crm (needs attention)") {
		t.Errorf("prod status %+v", s)
	}
	if len(all.Databases) != 7 { // prod and its six
		t.Errorf("%d statuses for prod", len(all.Databases))
	}

	// A whole-server restore into a second, empty cluster: every database
	// of run 2, each row-checked; then only one of run 3 (whose secret
	// failed) into a third; and nothing at all over databases that exist.
	// The empty cluster lacks the roles the databases name (shop grants to
	// reader): they are created from the roles saved with the backups.
	srv2 := testenv.Postgres(t)
	res, err := e.RestoreServer(ctx, *b2, srv2.URL("postgres"), nil, RestoreOptions{CreateRoles: true})
	if err != nil {
		t.Fatalf("restore run 2: %v (%+v)", err, res)
	}
	var login bool
	if err := srv2.Conn(t, "postgres").QueryRow(ctx, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reader'").Scan(&login); err != nil || login {
		t.Errorf("role reader on the second cluster: can log in %v (%v)", login, err)
	}
	var restored []string
	for _, r := range res {
		restored = append(restored, r.Database)
		if !r.RowsMatch {
			t.Errorf("%s restored without matching rows: %+v", r.Database, r)
		}
	}
	if !slices.Equal(restored, []string{"app", "billing", "shop"}) {
		t.Errorf("restored %v", restored)
	}
	var n int
	if err := srv2.Conn(t, "billing").QueryRow(ctx, "SELECT count(*) FROM invoices").Scan(&n); err != nil || n != 2 {
		t.Errorf("billing restored with %d invoices (%v)", n, err)
	}
	if _, err := e.RestoreServer(ctx, *b2, srv2.URL("postgres"), []string{"app"}, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "already has app") {
		t.Errorf("restoring over an existing database: %v", err)
	}
	if _, err := e.RestoreServer(ctx, *b3, srv2.URL("postgres"), []string{"nope"}, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "no database nope") {
		t.Errorf("--only of a database the run lacks: %v", err)
	}
	srv3 := testenv.Postgres(t)
	res, err = e.RestoreServer(ctx, *b3, srv3.URL("postgres"), []string{"billing"}, RestoreOptions{})
	if err != nil || len(res) != 1 || !res[0].RowsMatch {
		t.Fatalf("restore only billing of run 3: %+v, %v", res, err)
	}
	if err := srv3.Conn(t, "postgres").QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname IN ('app', 'shop')").Scan(&n); err != nil || n != 0 {
		t.Errorf("--only billing restored %d others (%v)", n, err)
	}

	// Removing the server entry removes its databases; their history stays.
	if err := e.RemoveDatabase(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if dbs, _ := e.Databases(ctx); len(dbs) != 1 || dbs[0].Name != "shop" {
		t.Errorf("after removing prod: %+v", dbs)
	}
	if b, err := e.store.Backup(ctx, crmBackups[0].ID); err != nil || b.Status != store.StatusSucceeded {
		t.Errorf("crm's backup after removing prod: %+v, %v", b, err)
	}
}
