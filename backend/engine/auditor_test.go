package engine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// auditHome is a settings directory with a key file, for engines that keep
// their real audit log.
func auditHome(t testing.TB) Options {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	kf := filepath.Join(t.TempDir(), "master.key")
	if err := keys.WriteKeyFile(kf, mk); err != nil {
		t.Fatal(err)
	}
	return Options{Home: home, KeyFile: kf}
}

func openAuditEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	e, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The newest entries deleted while PgSafe was closed: the next open finds
// it, reports it (AuditStatus) and records it, PgSafe goes on recording, and
// every later verification reports the break.
func TestOpenFindsDeletedTail(t *testing.T) {
	ctx := context.Background()
	opts := auditHome(t)
	e := openAuditEngine(t, opts)
	// A new log is started at open: its genesis entry.
	if rep, ok := e.AuditStatus(); !ok || !rep.Intact || rep.Entries != 1 {
		t.Fatalf("a new log at open: %+v, %v", rep, ok)
	}
	for _, a := range []string{"app.started", "database.created", "backup.started", "app.stopped"} {
		if err := e.RecordEvent(ctx, Event{Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Store().DB().Exec("DELETE FROM audit_log WHERE seq >= 4"); err != nil { // entry 1 is the genesis
		t.Fatal(err)
	}
	e.Close()

	e = openAuditEngine(t, opts)
	defer e.Close()
	rep, ok := e.AuditStatus()
	if !ok || rep.Intact || rep.Kind != audit.BreakTail || rep.BrokenAt != 4 || rep.RecordedAt != 4 {
		t.Fatalf("AuditStatus at open = %+v, %v", rep, ok)
	}
	if err := e.RecordEvent(ctx, Event{Action: "app.started"}); err != nil {
		t.Fatalf("recording after a reported break: %v", err)
	}
	rep, err := e.Audit().Verify(ctx)
	if err != nil || rep.Intact || rep.BrokenAt != 4 || rep.Kind != audit.BreakTail {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// The newest entries deleted while the engine is open: the next event is
// recorded after the break, which is reported, not hidden.
func TestRecordAfterTailDeletedWhileOpen(t *testing.T) {
	ctx := context.Background()
	e := openAuditEngine(t, auditHome(t))
	defer e.Close()
	for range 3 {
		if err := e.RecordEvent(ctx, Event{Action: "schedule.paused"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Store().DB().Exec("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"); err != nil {
		t.Fatal(err)
	}
	if err := e.RecordEvent(ctx, Event{Action: "backup.started"}); err != nil {
		t.Fatalf("RecordEvent: %v", err)
	}
	if rep, ok := e.AuditStatus(); !ok || rep.Intact || rep.Kind != audit.BreakTail || rep.BrokenAt != 4 {
		t.Fatalf("AuditStatus = %+v, %v", rep, ok)
	}
	recs, _ := e.Audit().List(ctx, audit.Filter{Limit: 2})
	if len(recs) != 2 || recs[0].Action != "backup.started" || recs[1].Action != audit.ActionBroken {
		t.Fatalf("newest entries %+v", recs)
	}
	if rep, err := e.Audit().Verify(ctx); err != nil || rep.Intact || rep.BrokenAt != 4 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// A backup's manifest carries the newest audit entry when it started (its
// backup.started entry); rolling the log and its checkpoint back together
// past it is then reported.
func TestManifestWitness(t *testing.T) {
	ctx := context.Background()
	opts := auditHome(t)
	e := openAuditEngine(t, opts)
	defer e.Close()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 100);
		CREATE ROLE witness_reader LOGIN PASSWORD 'reader-pw-7'; GRANT SELECT ON orders TO witness_reader;`)
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "witness_reader:reader-pw-7", 1)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	cpPath := filepath.Join(opts.Home, audit.CheckpointFile)
	old, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	var before int64
	e.Store().DB().QueryRow("SELECT max(seq) FROM audit_log").Scan(&before)

	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m backup.Manifest
	if err := json.Unmarshal(b.Manifest, &m); err != nil || m.Audit == nil {
		t.Fatalf("manifest %s: %v", b.Manifest, err)
	}
	var mac []byte
	var action string
	if err := e.Store().DB().QueryRow("SELECT mac, action FROM audit_log WHERE seq = ?", m.Audit.Seq).Scan(&mac, &action); err != nil {
		t.Fatal(err)
	}
	var storeID string
	e.Store().DB().QueryRow("SELECT value FROM meta WHERE key = 'store_id'").Scan(&storeID)
	if action != "backup.started" || m.Audit.MAC != hex.EncodeToString(mac) || m.Audit.Seq != before+1 || m.Audit.Store != storeID || storeID == "" {
		t.Fatalf("witness %+v names entry %d (%s), want the backup.started entry %d", m.Audit, m.Audit.Seq, action, before+1)
	}
	if rep, err := e.Audit().Verify(ctx); err != nil || !rep.Intact {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}

	// Log and checkpoint rolled back together to before the backup.
	if _, err := e.Store().DB().Exec("DELETE FROM audit_log WHERE seq > ?", before); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpPath, old, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Audit().Verify(ctx)
	if err != nil || rep.Intact || rep.Kind != audit.BreakWitness || rep.BrokenAt != m.Audit.Seq {
		t.Fatalf("Verify after the rollback = %+v, %v", rep, err)
	}

	// The witness came from the list kept beside the history, not from the
	// manifest (a megabyte with many tables); a settings database of an
	// older PgSafe, without the list, still has its manifests read.
	var kept []backup.AuditWitness
	if v, err := e.Store().Setting(ctx, witnessesSetting); err != nil || json.Unmarshal([]byte(v), &kept) != nil || len(kept) != 1 || kept[0] != *m.Audit {
		t.Fatalf("kept witnesses %v (%v), want [%+v]", kept, err, *m.Audit)
	}
	if err := e.Store().DeleteSetting(ctx, witnessesSetting); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Audit().Verify(ctx)
	if err != nil || rep.Intact || rep.Kind != audit.BreakWitness || rep.BrokenAt != m.Audit.Seq {
		t.Fatalf("Verify after the rollback, no kept witnesses = %+v, %v", rep, err)
	}
}

// An older copy of the whole settings directory put back (log, history and
// checkpoint consistent with each other) looks intact on this machine; the
// witness in a newer backup's manifest in the storage shows it.
func TestStorageWitnessCatchesRolledBackSettings(t *testing.T) {
	ctx := context.Background()
	opts := auditHome(t)
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "ledger")
	srv.Exec(t, "ledger", `CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 10);
		CREATE ROLE rollback_reader LOGIN PASSWORD 'reader-pw-8'; GRANT SELECT ON entries TO rollback_reader;`)
	url := strings.Replace(srv.URL("ledger"), srv.User+":"+srv.Password, "rollback_reader:reader-pw-8", 1)
	e := openAuditEngine(t, opts)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "ledger", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	e.Close()
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.CopyFS(saved, os.DirFS(opts.Home)); err != nil {
		t.Fatal(err)
	}

	e = openAuditEngine(t, opts)
	b, err := e.BackupNow(ctx, "ledger", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if err := os.RemoveAll(opts.Home); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(opts.Home, os.DirFS(saved)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(opts.Home, 0o700)

	e = openAuditEngine(t, opts)
	defer e.Close()
	if rep, ok := e.AuditStatus(); !ok || !rep.Intact {
		t.Fatalf("the rolled-back settings look intact on their own, got %+v", rep)
	}
	found, err := e.StorageBackups(ctx, "nas")
	if err != nil || len(found) != 1 || found[0].Manifest == nil || found[0].Manifest.BackupID != b.ID || found[0].InHistory {
		t.Fatalf("StorageBackups = %+v, %v", found, err)
	}
	rep, ok := e.AuditStatus()
	if !ok || rep.Intact || rep.Kind != audit.BreakWitness || rep.BrokenAt != found[0].Manifest.Audit.Seq {
		t.Fatalf("AuditStatus after reading the storage = %+v", rep)
	}
	if rep, err := e.Audit().Verify(ctx); err != nil || rep.Intact || rep.Kind != audit.BreakWitness {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// keepWitness keeps the newest witnesses first, at most witnessBackups, each
// once; a settings database without the list first takes the manifests'.
func TestKeepWitness(t *testing.T) {
	ctx := context.Background()
	e := openAuditEngine(t, auditHome(t))
	defer e.Close()
	kept := func() []backup.AuditWitness {
		t.Helper()
		var ws []backup.AuditWitness
		v, err := e.Store().Setting(ctx, witnessesSetting)
		if err != nil || json.Unmarshal([]byte(v), &ws) != nil {
			t.Fatalf("kept witnesses %q: %v", v, err)
		}
		return ws
	}
	w := func(seq int64) *backup.AuditWitness {
		return &backup.AuditWitness{Store: "s", Seq: seq, MAC: fmt.Sprintf("%02x", seq)}
	}
	// An older settings database: a succeeded backup whose manifest holds
	// a witness, and no list.
	d, err := e.Store().CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "db.example.internal", Port: 5432, DBName: "shop", User: "backup", SSLMode: "prefer"})
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := store.NewBackupID()
	man, _ := json.Marshal(backup.Manifest{Kind: backup.ManifestKind, Audit: w(1)})
	if err := e.Store().CreateBackup(ctx, store.Backup{ID: id, DatabaseID: d, Status: store.StatusSucceeded, Origin: store.OriginManual,
		StartedAt: time.Now(), FinishedAt: time.Now(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: "shop", Manifest: man}}); err != nil {
		t.Fatal(err)
	}
	e.keepWitness(ctx, w(2))
	if got := kept(); len(got) != 2 || got[0] != *w(2) || got[1] != *w(1) {
		t.Fatalf("after the first kept witness: %+v, want 2 then the manifest's 1", got)
	}
	e.keepWitness(ctx, w(2))
	for i := int64(3); i < 3+witnessBackups; i++ {
		e.keepWitness(ctx, w(i))
	}
	got := kept()
	if len(got) != witnessBackups || got[0] != *w(2 + witnessBackups) || got[witnessBackups-1] != *w(3) {
		t.Fatalf("kept %d witnesses, newest %+v, oldest %+v; want %d from %d down to 3", len(got), got[0], got[len(got)-1], witnessBackups, 2+witnessBackups)
	}
	ws, err := e.auditWitnesses(ctx)
	if err != nil || len(ws) != witnessBackups || ws[0].Seq != 2+witnessBackups || ws[0].StoreID != "s" {
		t.Fatalf("auditWitnesses = %d, %v", len(ws), err)
	}
}
