package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestStorageViewHasNoSecret(t *testing.T) {
	f := StorageForm{Name: "s3", Kind: "s3", Bucket: "backups", Endpoint: "https://s3.example", AccessKeyID: "AKIDEXAMPLE",
		SecretKey: "very-secret-key-123"}
	c, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	v := storageView(store.Storage{ID: 3, StorageConfig: c})
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "very-secret-key-123") || !v.SecretSet || v.Where != "s3://backups at https://s3.example" {
		t.Fatalf("view %s", b)
	}
}

func TestBackupViewNamesStoragesAndDuration(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b := store.Backup{ID: "b1", Status: store.StatusSucceeded, StartedAt: start, FinishedAt: start.Add(90 * time.Second),
		StoredSize: 42, BackupDetails: store.BackupDetails{Error: "written to 1 of 2 storages; storage nas: disk full", Manifest: []byte(`{"secret":"x"}`)},
		Copies: []store.BackupCopy{{StorageID: 1, Status: store.CopyWritten}, {StorageID: 2, Status: store.CopyFailed, Error: "disk full"}, {StorageID: 9, Status: store.CopyDeleted}}}
	v := backupView(b, map[int64]string{1: "s3", 2: "nas"})
	if v.DurationSeconds != 90 || len(v.Copies) != 3 || v.Copies[0].Storage != "s3" || v.Copies[1].Error != "disk full" || v.Copies[2].Storage != "a removed storage" {
		t.Fatalf("view %+v", v)
	}
	if j, _ := json.Marshal(v); strings.Contains(string(j), "manifest") {
		t.Fatalf("the manifest reached the UI: %s", j)
	}
}

// A failed backup says why in a sentence and blames what failed: the
// database for a refused password (not the storage, which was never
// written to), the storage when it was the storage.
func TestBackupViewBlamesWhatFailed(t *testing.T) {
	login := store.Backup{ID: "b2", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop",
		Error: `back up shop: cannot connect to db.example:5432/shop as "reader": the server refused the password: update it in the database's connection (FATAL: password authentication failed for user "reader" (SQLSTATE 28P01))`}}
	v := backupView(login, nil)
	if v.Blame != "database" || len(v.Copies) != 0 || strings.HasPrefix(v.Reason, "back up") || strings.Contains(v.Reason, "SQLSTATE") ||
		!strings.Contains(v.Reason, "refused the password") || !strings.Contains(v.Error, "SQLSTATE 28P01") {
		t.Fatalf("a refused password: %+v", v)
	}
	full := store.Backup{ID: "b3", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop", Error: "back up shop: storage nas: no space left on device"},
		Copies: []store.BackupCopy{{StorageID: 2, Status: store.CopyFailed, Error: "no space left on device"}}}
	if v := backupView(full, map[int64]string{2: "nas"}); v.Blame != "storage" || v.Reason != "Storage nas: no space left on device" {
		t.Fatalf("a full storage: %+v", v)
	}
	dump := store.Backup{ID: "b4", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop", Error: "back up shop: pg_dump exited 1: pg_dump: error: query failed"}}
	if v := backupView(dump, nil); v.Blame != "pg_dump" {
		t.Fatalf("pg_dump failed: %+v", v)
	}
}

// The card's chart comes from the history the state was computed from:
// the newest 30 that ended, oldest first, with no second read.
func TestStatusViewRecentFromHistory(t *testing.T) {
	start := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	var hist []store.Backup // newest first, as engine.Status reads it
	for i := 0; i < 40; i++ {
		st := store.StatusSucceeded
		switch i {
		case 0:
			st = store.StatusRunning
		case 1:
			st = store.StatusFailed
		}
		at := start.Add(-time.Duration(i) * time.Hour)
		hist = append(hist, store.Backup{ID: fmt.Sprint(i), Status: st, StartedAt: at, FinishedAt: at.Add(2 * time.Second), StoredSize: int64(1000 + i)})
	}
	v := statusView(engine.DatabaseStatus{Name: "shop", History: hist})
	if len(v.Recent) != 29 { // the newest 30, less the running one
		t.Fatalf("%d points, want 29", len(v.Recent))
	}
	if first, last := v.Recent[0], v.Recent[28]; first.StoredSize != 1029 || last.OK || last.StoredSize != 1001 || first.DurationSeconds != 2 {
		t.Fatalf("oldest %+v, newest %+v", first, last)
	}
}
