package ui

import (
	"encoding/json"
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

// The window's row carries the engine's row, in seconds, and never the
// manifest.
func TestBackupViewFromRow(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b := store.Backup{ID: "b1", Status: store.StatusSucceeded, StartedAt: start, FinishedAt: start.Add(90 * time.Second),
		StoredSize: 42, BackupDetails: store.BackupDetails{Manifest: []byte(`{"secret":"x"}`)},
		Copies: []store.BackupCopy{{StorageID: 1, Status: store.CopyWritten}, {StorageID: 2, Status: store.CopyFailed, Error: "disk full"}}}
	row := engine.DescribeBackup(b, map[int64]string{1: "s3", 2: "nas"})
	row.Checked = &engine.CheckSummary{Kind: "verify", OK: true, When: start}
	v := backupView(row)
	if v.DurationSeconds != 90 || len(v.Copies) != 2 || v.Copies[1] != (CopyView{Storage: "nas", Status: "failed", Error: "disk full"}) ||
		v.Blame != "storage" || v.Checked == nil || v.Checked.Kind != "verify" {
		t.Fatalf("view %+v", v)
	}
	j, _ := json.Marshal(v)
	if strings.Contains(string(j), "manifest") || !strings.Contains(string(j), `"durationSeconds":90`) {
		t.Fatalf("json %s", j)
	}
}
