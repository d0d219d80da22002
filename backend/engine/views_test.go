package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestDescribeBackupNamesStoragesAndDuration(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b := store.Backup{ID: "b1", Status: store.StatusSucceeded, StartedAt: start, FinishedAt: start.Add(90 * time.Second),
		StoredSize: 42, BackupDetails: store.BackupDetails{Error: "written to 1 of 2 storages; storage nas: disk full", Manifest: []byte(`{"secret":"x"}`)},
		Copies: []store.BackupCopy{{StorageID: 1, Status: store.CopyWritten}, {StorageID: 2, Status: store.CopyFailed, Error: "disk full"}, {StorageID: 9, Status: store.CopyDeleted}}}
	r := DescribeBackup(b, map[int64]string{1: "s3", 2: "nas"})
	if r.Duration != 90*time.Second || len(r.Copies) != 3 || r.Copies[0].Storage != "s3" || r.Copies[1].Error != "disk full" || r.Copies[2].Storage != "a removed storage" {
		t.Fatalf("row %+v", r)
	}
	if r.Status != string(store.StatusSucceeded) || r.Blame != "storage" {
		t.Fatalf("status %q, blame %q", r.Status, r.Blame)
	}
	// Only the written copy is kept: not the failed one, not the one
	// retention deleted.
	if fmt.Sprint(r.Kept) != "[1]" {
		t.Fatalf("kept in %v, want [1]", r.Kept)
	}
	if r := DescribeBackup(store.Backup{ID: "b0", Status: store.StatusRunning, StartedAt: start}, nil); r.Duration != 0 || r.Copies == nil || r.Kept == nil {
		t.Fatalf("a running backup: %+v", r)
	}
}

// A backup saved without the server's roles says so under its row.
func TestDescribeBackupSaysTheRolesAreMissing(t *testing.T) {
	// The store keeps the manifest's reason in the record (listed without
	// the manifest).
	b := store.Backup{ID: "b3", Status: store.StatusSucceeded, BackupDetails: store.BackupDetails{
		GlobalsMissing: "no pg_dumpall of PostgreSQL 16 or newer was found."}}
	if r := DescribeBackup(b, nil); r.Reason != "Saved without the server's roles: no pg_dumpall of PostgreSQL 16 or newer was found." || r.Blame != "" {
		t.Fatalf("row %+v", r)
	}
	b.GlobalsMissing = ""
	if r := DescribeBackup(b, nil); r.Reason != "" {
		t.Fatalf("a backup with its roles: %+v", r)
	}
}

// The history, listed without the manifests, still says which backup was
// saved without the roles: the store keeps that fact of the manifest in
// the record.
func TestHistorySaysTheRolesAreMissing(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	d, err := e.Store().CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "db.example.internal", Port: 5432, DBName: "shop", User: "backup", SSLMode: "prefer"})
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := store.NewBackupID()
	if err := e.Store().CreateBackup(ctx, store.Backup{ID: id, DatabaseID: d, Status: store.StatusSucceeded, Origin: store.OriginManual,
		StartedAt: time.Now(), FinishedAt: time.Now(), KeyID: e.key.ID().String(), BackupDetails: store.BackupDetails{DatabaseName: "shop",
			Manifest: []byte(`{"kind":"pgsafe-manifest","globals_missing":"no pg_dumpall of PostgreSQL 16 or newer was found"}`)}}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.BackupHistory(ctx, "shop", 10)
	if err != nil || len(rows) != 1 || rows[0].Reason != "Saved without the server's roles: no pg_dumpall of PostgreSQL 16 or newer was found." {
		t.Fatalf("history %+v, %v", rows, err)
	}
}

// A failed backup says why in a sentence and blames what failed: the
// database for a refused password (not the storage, which was never
// written to), the storage when it was the storage.
func TestDescribeBackupBlamesWhatFailed(t *testing.T) {
	login := store.Backup{ID: "b2", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop",
		Error: `back up shop: cannot connect to db.example:5432/shop as "reader": the server refused the password: update it in the database's connection (FATAL: password authentication failed for user "reader" (SQLSTATE 28P01))`}}
	v := DescribeBackup(login, nil)
	if v.Blame != "database" || len(v.Copies) != 0 || strings.HasPrefix(v.Reason, "back up") || strings.Contains(v.Reason, "SQLSTATE") ||
		!strings.Contains(v.Reason, "refused the password") || !strings.Contains(v.Error, "SQLSTATE 28P01") {
		t.Fatalf("a refused password: %+v", v)
	}
	full := store.Backup{ID: "b3", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop", Error: "back up shop: storage nas: no space left on device"},
		Copies: []store.BackupCopy{{StorageID: 2, Status: store.CopyFailed, Error: "no space left on device"}}}
	if v := DescribeBackup(full, map[int64]string{2: "nas"}); v.Blame != "storage" || v.Reason != "Storage nas: no space left on device" {
		t.Fatalf("a full storage: %+v", v)
	}
	dump := store.Backup{ID: "b4", Status: store.StatusFailed, BackupDetails: store.BackupDetails{DatabaseName: "shop", Error: "back up shop: pg_dump exited 1: pg_dump: error: query failed"}}
	if v := DescribeBackup(dump, nil); v.Blame != "pg_dump" {
		t.Fatalf("pg_dump failed: %+v", v)
	}
}

// The card's chart comes from the history the state was computed from:
// the newest 30 that ended, oldest first, with no second read.
func TestRecentFromHistory(t *testing.T) {
	start := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	var hist []store.Backup // newest first, as Status reads it
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
	d := DatabaseStatus{Name: "shop", History: hist}
	rec := d.Recent(30)
	if len(rec) != 29 { // the newest 30, less the running one
		t.Fatalf("%d points, want 29", len(rec))
	}
	if first, last := rec[0], rec[28]; first.StoredSize != 1029 || last.OK || last.StoredSize != 1001 || first.Duration != 2*time.Second {
		t.Fatalf("oldest %+v, newest %+v", first, last)
	}
	if d.LastRow() != nil {
		t.Fatal("a status with no last backup has a last row")
	}
	d.Last = &hist[1]
	if l := d.LastRow(); l == nil || l.ID != "1" || l.Status != string(store.StatusFailed) {
		t.Fatalf("last row %+v", l)
	}
}

// The tray's summary: the worst state and its first reason, who fails and
// who needs attention, and the newest backup that ended.
func TestOverallSummary(t *testing.T) {
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	ok := store.Backup{Status: store.StatusSucceeded, FinishedAt: at}
	bad := store.Backup{Status: store.StatusFailed, FinishedAt: at.Add(time.Hour)}
	o := Overall{Databases: []DatabaseStatus{
		{Name: "d", Status: status.Status{State: status.Protected, Reasons: []status.Reason{{Message: "not shown"}}}},
		{Name: "a", Status: status.Status{State: status.Attention, Reasons: []status.Reason{{Message: "overdue"}}, Last: &ok}},
		{Name: "b", Status: status.Status{State: status.Failing, Reasons: []status.Reason{{Message: "the last backup failed"}}, Last: &bad}},
		{Name: "c", Status: status.Status{State: status.Unprotected}},
	}}
	s := o.Summary()
	if s.Worst != status.Unprotected || s.Reason != "the last backup failed" {
		t.Fatalf("worst %q, reason %q", s.Worst, s.Reason)
	}
	if strings.Join(s.Failing, ",") != "b,c" || strings.Join(s.Attention, ",") != "a" || strings.Join(s.Databases, ",") != "a,b,c,d" {
		t.Fatalf("failing %v, attention %v, databases %v", s.Failing, s.Attention, s.Databases)
	}
	if len(s.Lines) != 4 || !reflect.DeepEqual(s.Lines[1], StateLine{Database: "b", State: status.Failing, Reason: "the last backup failed"}) || s.Lines[3].Reason != "" {
		t.Fatalf("lines %+v", s.Lines)
	}
	if s.Last == nil || s.Last.Database != "b" || s.Last.Succeeded {
		t.Fatalf("last %+v", s.Last)
	}
	if s := (Overall{}).Summary(); s.Worst != status.Protected || s.Last != nil || s.Reason != "" {
		t.Fatalf("no databases: %+v", s)
	}
}

func TestFirstTime(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		if first, err := e.FirstTime(ctx, "ui.some_hint_shown"); err != nil || first != want {
			t.Fatalf("call %d: first %v, %v; want %v", i+1, first, err, want)
		}
	}
	if first, err := e.FirstTime(ctx, "ui.another_hint_shown"); err != nil || !first {
		t.Fatalf("another hint: %v, %v", first, err)
	}
}
