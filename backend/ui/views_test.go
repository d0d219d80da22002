package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

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
