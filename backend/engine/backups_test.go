package engine

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestBackupVerifyRestore: a database and a folder storage added through the
// engine, a backup, its verification and drill, and a restore into a new
// database, all recorded in the history and the audit log.
func TestBackupVerifyRestore(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv, folder, _ := shopOnNAS(t, e, 2000)

	// By hand, as a face's "back up now": origin manual, progress told.
	var mu sync.Mutex
	var phases []string
	b, err := e.BackupByHand(ctx, "shop", func(p backup.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(phases) == 0 || phases[len(phases)-1] != string(p.Phase) {
			phases = append(phases, string(p.Phase))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Origin != store.OriginManual || !slices.Contains(phases, string(backup.PhaseDumping)) {
		t.Fatalf("by hand: origin %q, phases %v", b.Origin, phases)
	}
	if b.Status != store.StatusSucceeded || b.StoredSize == 0 || len(b.Copies) != 1 || b.Copies[0].Status != store.CopyWritten {
		t.Fatalf("backup record %+v", b)
	}
	if _, err := os.Stat(folder + "/" + b.Copies[0].Object); err != nil {
		t.Fatalf("the backup file is not in the folder: %v", err)
	}
	latest, err := e.FindBackup(ctx, "latest", "shop")
	if err != nil || latest.ID != b.ID {
		t.Fatalf("latest = %s, %v", latest.ID, err)
	}

	res, err := e.VerifyBackup(ctx, latest, "")
	if err != nil || !res.OK {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	res, err = e.VerifyBackup(ctx, latest, srv.URL("postgres"))
	if err != nil || !res.OK || res.Kind != "drill" {
		t.Fatalf("drill = %+v, %v", res, err)
	}

	rr, err := e.RestoreBackup(ctx, latest, RestoreTarget{URL: srv.URL("shop_restored")}, RestoreOptions{NoOwner: true})
	if err != nil || rr.Database != "shop_restored" {
		t.Fatalf("restore = %+v, %v", rr, err)
	}
	var n int
	if err := srv.Conn(t, "shop_restored").QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 2000 {
		t.Fatalf("restored %d orders (%v)", n, err)
	}

	// A broken storage: the backup fails, is recorded as failed, and nothing is left.
	os.Chmod(folder, 0o700)
	os.RemoveAll(folder)
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("backup to a missing folder: %v", err)
	}
	hist, _ := e.Backups(ctx, "shop", 0)
	if len(hist) != 2 || hist[0].Status != store.StatusFailed || hist[0].Error == "" {
		t.Fatalf("history %+v", hist)
	}
	runs, _ := e.store.Restores(ctx, store.RestoreFilter{BackupID: b.ID})
	if len(runs) != 3 {
		t.Fatalf("runs recorded: %+v", runs)
	}
	want := "storage.created:ok,database.created:ok,backup.started:ok,backup.finished:ok,backup.verify:ok,backup.drill:ok,backup.restore:ok,backup.started:ok,backup.failed:failed"
	if got := audit.actions(); got != want {
		t.Fatalf("audited %s\nwant     %s", got, want)
	}
}
