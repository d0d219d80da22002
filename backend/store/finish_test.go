package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFinishBackup: a backup's result and its copies are one commit — the
// rows state moves on once — and a copy that cannot be recorded (a storage
// removed meanwhile) leaves the backup as it was, copies and all.
func TestFinishBackup(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	db, _ := s.CreateDatabase(ctx, sampleDatabase("a"))
	disk, _ := s.CreateStorage(ctx, StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/b"}})
	nas, _ := s.CreateStorage(ctx, StorageConfig{Name: "nas", Kind: StorageLocal, Local: &LocalStorage{Path: "/c"}})
	_, id, _ := NewBackupID()
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	b := Backup{ID: id, DatabaseID: db, Status: StatusRunning, Origin: OriginManual, StartedAt: start, KeyID: mk.ID().String()}
	if err := s.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	gen := func() int64 {
		st, err := s.readRowsState(ctx, s.db)
		if err != nil {
			t.Fatal(err)
		}
		return st.Gen
	}
	done := b
	done.Status, done.FinishedAt, done.RawSize, done.StoredSize = StatusSucceeded, start.Add(time.Second), 1000, 400

	// A copy on a storage that does not exist: nothing is written.
	// The backup's audit witness joins a list kept in a setting, in the
	// same transaction.
	witness := SettingChange{Key: "audit.witnesses", Fn: func(old string, found bool) (string, error) {
		if found {
			return old + ",w2", nil
		}
		return "w1", nil
	}}
	before := gen()
	err := s.FinishBackup(ctx, done, []BackupCopy{{StorageID: disk, Status: CopyWritten, Size: 400}, {StorageID: 999, Status: CopyWritten}}, witness)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("FinishBackup with a missing storage: %v", err)
	}
	if got, _ := s.Backup(ctx, id); got.Status != StatusRunning || len(got.Copies) != 0 || gen() != before {
		t.Fatalf("after a failed FinishBackup: status %s, %d copies, change %d (was %d)", got.Status, len(got.Copies), gen(), before)
	}
	if v, err := s.Setting(ctx, "audit.witnesses"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a failed FinishBackup the setting is %q, %v", v, err)
	}

	err = s.FinishBackup(ctx, done, []BackupCopy{{StorageID: disk, Status: CopyWritten, Size: 400, Object: "o"},
		{StorageID: nas, Status: CopyFailed, Error: "disk full"}}, witness)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting(ctx, "audit.witnesses"); err != nil || v != "w1" {
		t.Fatalf("setting after FinishBackup: %q, %v", v, err)
	}
	got, err := s.Backup(ctx, id)
	if err != nil || got.Status != StatusSucceeded || got.StoredSize != 400 || len(got.Copies) != 2 {
		t.Fatalf("Backup = %+v, %v", got, err)
	}
	if gen() != before+1 {
		t.Fatalf("FinishBackup moved the rows state %d times, want once", gen()-before)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatalf("integrity after FinishBackup: %v", err)
	}
}
