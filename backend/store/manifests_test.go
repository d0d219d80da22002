package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/seal"
)

// largeManifest is a manifest listing n tables, as a backup of a database
// of n tables records it.
func largeManifest(id string, n int) json.RawMessage {
	var b strings.Builder
	fmt.Fprintf(&b, `{"kind":"pgsafe-manifest","backup_id":%q,"tables":[`, id)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"schema":"public","name":"t%d","rows":100}`, i)
	}
	b.WriteString("]}")
	return json.RawMessage(b.String())
}

// addBackups records n succeeded backups of database db, each with a
// manifest of tables tables; it returns their IDs, oldest first.
func addBackups(t testing.TB, s *Store, db int64, keyID string, n, tables int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range n {
		_, id, _ := NewBackupID()
		at := start.Add(time.Duration(i) * time.Second)
		b := Backup{ID: id, DatabaseID: db, Status: StatusRunning, Origin: OriginManual, StartedAt: at, KeyID: keyID,
			BackupDetails: BackupDetails{DatabaseName: "shop"}}
		if err := s.CreateBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Status, b.FinishedAt, b.Manifest = StatusSucceeded, at.Add(time.Second), largeManifest(id, tables)
		if err := s.FinishBackup(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestManifestsApart: a manifest is kept in a row of its own, read by Backup
// and by Backups only when asked; it is bound like every row (an edit or a
// swap between two backups is refused), and goes with its backup.
func TestManifestsApart(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	db, _ := s.CreateDatabase(ctx, sampleDatabase("shop"))
	ids := addBackups(t, s, db, mk.ID().String(), 2, 3)

	got, err := s.Backup(ctx, ids[0])
	if err != nil || string(got.Manifest) != string(largeManifest(ids[0], 3)) {
		t.Fatalf("Backup: manifest %s, %v", got.Manifest, err)
	}
	list, err := s.Backups(ctx, BackupFilter{DatabaseID: db})
	if err != nil || len(list) != 2 || list[0].Manifest != nil || list[1].Manifest != nil {
		t.Fatalf("listed without manifests: %d, %v", len(list), err)
	}
	list, err = s.Backups(ctx, BackupFilter{DatabaseID: db, Manifests: true})
	if err != nil || len(list) != 2 || string(list[0].Manifest) != string(largeManifest(ids[1], 3)) || string(list[1].Manifest) != string(largeManifest(ids[0], 3)) {
		t.Fatalf("listed with manifests: %d, %v", len(list), err)
	}
	if m, err := s.Manifest(ctx, ids[1]); err != nil || string(m) != string(largeManifest(ids[1], 3)) {
		t.Fatalf("Manifest: %s, %v", m, err)
	}
	// An update without a manifest keeps the recorded one.
	got.Error = "noted later"
	got.Manifest = nil
	if err := s.UpdateBackup(ctx, got); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Manifest(ctx, ids[0]); err != nil || string(m) != string(largeManifest(ids[0], 3)) {
		t.Fatalf("after an update without it, the manifest is %s, %v", m, err)
	}

	// Two backups' manifests swapped outside PgSafe: each row is sealed to
	// its backup, so neither is read as the other's.
	var a, b []byte
	s.DB().QueryRow("SELECT sealed FROM backup_manifests WHERE backup_id = ?", ids[0]).Scan(&a)
	s.DB().QueryRow("SELECT sealed FROM backup_manifests WHERE backup_id = ?", ids[1]).Scan(&b)
	if _, err := s.DB().Exec("UPDATE backup_manifests SET sealed = CASE backup_id WHEN ? THEN ? ELSE ? END", ids[0], b, a); err != nil {
		t.Fatal(err)
	}
	var damaged *DamagedRowError
	if _, err := s.Backup(ctx, ids[0]); !errors.As(err, &damaged) || damaged.Table != "backup_manifests" {
		t.Fatalf("Backup with a swapped manifest: %v", err)
	}
	if list, err := s.Backups(ctx, BackupFilter{DatabaseID: db, Manifests: true, IncludeDamaged: true}); err != nil || len(list) != 2 || list[0].Status != StatusDamaged || list[1].Status != StatusDamaged {
		t.Fatalf("listed with swapped manifests: %+v, %v", list, err)
	}
	if list, err := s.Backups(ctx, BackupFilter{DatabaseID: db}); err != nil || len(list) != 2 {
		t.Fatalf("the history without manifests: %d, %v", len(list), err)
	}
	if _, err := s.DB().Exec("UPDATE backup_manifests SET sealed = CASE backup_id WHEN ? THEN ? ELSE ? END", ids[0], a, b); err != nil {
		t.Fatal(err)
	}

	// The one fact of a manifest the history shows is in the record.
	withRoles := got
	withRoles.Manifest = json.RawMessage(`{"kind":"pgsafe-manifest","globals_missing":"no pg_dumpall 16 or newer"}`)
	if err := s.UpdateBackup(ctx, withRoles); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Backups(ctx, BackupFilter{DatabaseID: db}); err != nil || list[1].ID != ids[0] || list[1].GlobalsMissing != "no pg_dumpall 16 or newer" || list[0].GlobalsMissing != "" {
		t.Fatalf("roles missing in the listed records: %+v, %v", list, err)
	}

	// Deleting a backup deletes its manifest; the rows still add up.
	if err := s.DeleteBackup(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	var n int
	s.DB().QueryRow("SELECT count(*) FROM backup_manifests WHERE backup_id = ?", ids[0]).Scan(&n)
	if n != 0 {
		t.Fatal("the deleted backup's manifest is still recorded")
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	// A manifest row deleted outside PgSafe leaves the rows' digest off.
	if _, err := s.DB().Exec("DELETE FROM backup_manifests WHERE backup_id = ?", ids[1]); err != nil {
		t.Fatal(err)
	}
	wantModified(t, s.CheckIntegrity(ctx))
}

// BenchmarkBackupsWithLargeManifests lists the 50 newest backups of a
// database of 10,000 tables, as the status and the window's history do,
// without and with their manifests (docs/BENCHMARKS.md).
func BenchmarkBackupsWithLargeManifests(b *testing.B) {
	ctx := context.Background()
	s, mk := openTemp(b)
	db, _ := s.CreateDatabase(ctx, sampleDatabase("shop"))
	addBackups(b, s, db, mk.ID().String(), 50, 10000)
	var stored float64
	s.DB().QueryRow("SELECT avg(length(sealed)) FROM backup_manifests").Scan(&stored)
	b.Logf("a manifest of 10,000 tables: %d bytes of JSON, %.0f bytes sealed", len(largeManifest("x", 10000)), stored)
	for _, with := range []bool{false, true} {
		b.Run(fmt.Sprintf("manifests=%v", with), func(b *testing.B) {
			for b.Loop() {
				if list, err := s.Backups(ctx, BackupFilter{DatabaseID: db, Limit: 50, Manifests: with}); err != nil || len(list) != 50 {
					b.Fatal(len(list), err)
				}
			}
		})
	}
}

// A backup row modified outside PgSafe before the upgrade to version 4 is
// left as found, its manifest inside: it is reported as damaged, not bound
// again; accepted, its manifest is read from the record.
func TestMigrationLeavesDamagedBackupAsFound(t *testing.T) {
	ctx := context.Background()
	mk := newKey(t)
	path := filepath.Join(t.TempDir(), FileName)
	makeV2(t, path, mk)
	// Opened first by a PgSafe of schema version 3.
	saved, savedVersion, savedTables := migrations, SchemaVersion, boundTables
	migrations, SchemaVersion = saved[:3], 3
	boundTables = version3Tables()
	s, err := Open(ctx, path, mk)
	migrations, SchemaVersion, boundTables = saved, savedVersion, savedTables
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("UPDATE backups SET stored_size = 1 WHERE id = 'ab12'"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	var moved int
	s.DB().QueryRow("SELECT count(*) FROM backup_manifests").Scan(&moved)
	var damaged *DamagedRowError
	if _, err := s.Backup(ctx, "ab12"); moved != 0 || !errors.As(err, &damaged) || damaged.Table != "backups" {
		t.Fatalf("the edited backup after the upgrade: %d manifests moved, %v", moved, err)
	}
	s.Close()

	s, err = Accept(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Backup(ctx, "ab12")
	if err != nil || b.StoredSize != 1 || string(b.Manifest) != string(v2Manifest) {
		t.Fatalf("accepted: %+v, %v", b, err)
	}
	if m, err := s.Manifest(ctx, "ab12"); err != nil || string(m) != string(v2Manifest) {
		t.Fatalf("Manifest of the accepted record: %s, %v", m, err)
	}
}

// version3Tables are the bound tables of schema version 3.
func version3Tables() []boundTable {
	var out []boundTable
	for _, t := range boundTables {
		if boundSince[t.name] <= 3 {
			out = append(out, t)
		}
	}
	return out
}

// An upgrade that leaves the file mostly free pages (migration 4 moved
// large manifests out of the history's rows, compressed) gives them back.
func TestUpgradeCompacts(t *testing.T) {
	ctx := context.Background()
	mk := newKey(t)
	path := filepath.Join(t.TempDir(), FileName)
	makeV2(t, path, mk)
	// Ten more version-2 backups of a 10,000-table database, each with its
	// manifest inside its record.
	sealer, err := seal.New(mk)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{sealer: sealer}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		id := fmt.Sprintf("cd%02d", i)
		blob, err := old.sealRow("backups", id, BackupDetails{DatabaseName: "shop", Manifest: largeManifest(id, 10000)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO backups(id, database_id, status, origin, started_at, finished_at, raw_size, stored_size, key_id, sealed) VALUES (?, 1, 'succeeded', 'manual', ?, ?, 1000, 400, ?, ?)",
			id, time.Now().UnixMilli()-int64(i), time.Now().UnixMilli(), mk.ID().String(), blob); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()

	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	var free int64
	s.DB().QueryRow("PRAGMA freelist_count").Scan(&free)
	if m, err := s.Manifest(ctx, "cd03"); err != nil || string(m) != string(largeManifest("cd03", 10000)) {
		t.Fatalf("a moved manifest: %d bytes, %v", len(m), err)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after := size(); free != 0 || after*4 > before {
		t.Fatalf("after the upgrade the file is %d bytes (was %d), %d pages free", after, before, free)
	}
}
