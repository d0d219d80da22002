package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/seal"
)

// history fills a store with one of everything retention, the scheduler and
// the history lists act on.
type history struct {
	db, local, offsite, notifier int64
	backup, older                string
	restore                      int64
}

func fillHistory(t *testing.T, s *Store) history {
	t.Helper()
	ctx := context.Background()
	var h history
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	h.local, err = s.CreateStorage(ctx, StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/b"}})
	must(err)
	h.offsite, err = s.CreateStorage(ctx, StorageConfig{Name: "offsite", Kind: StorageSFTP, SFTP: &SFTPStorage{
		Host: "old.example", User: "u", Password: NewSecret("pw"), HostKey: "ssh-ed25519 AAAAold", Path: "/x"}})
	must(err)
	c := sampleDatabase("shop")
	c.StorageIDs = []int64{h.offsite, h.local}
	h.db, err = s.CreateDatabase(ctx, c)
	must(err)
	h.notifier, err = s.CreateNotifier(ctx, NotifierConfig{Name: "mail", Kind: NotifierEmail, Enabled: true})
	must(err)
	_, err = s.SetSchedule(ctx, h.db, ScheduleConfig{Enabled: true, Kind: ScheduleDaily, At: "03:00"})
	must(err)
	must(s.MarkScheduleRun(ctx, h.db, time.Now().Add(-time.Hour), time.Now().Add(23*time.Hour)))
	_, err = s.SetRetention(ctx, h.db, RetentionPolicy{KeepDays: 7, MaxSizeBytes: 1 << 30})
	must(err)
	for i, age := range []time.Duration{48 * time.Hour, time.Hour} {
		_, id, err := NewBackupID()
		must(err)
		b := Backup{ID: id, DatabaseID: h.db, Status: StatusRunning, Origin: OriginScheduled,
			StartedAt: time.Now().Add(-age), KeyID: s.KeyID().String(), BackupDetails: BackupDetails{DatabaseName: "shop"}}
		must(s.CreateBackup(ctx, b))
		b.Status, b.FinishedAt, b.RawSize, b.StoredSize = StatusSucceeded, b.StartedAt.Add(time.Minute), 1000, 400
		must(s.UpdateBackup(ctx, b))
		for _, sid := range []int64{h.local, h.offsite} {
			must(s.SetBackupCopy(ctx, id, BackupCopy{StorageID: sid, Status: CopyWritten, Size: 400, Object: id + ".pgsafe"}))
		}
		if i == 0 {
			h.older = id
		} else {
			h.backup = id
		}
	}
	h.restore, err = s.CreateRestore(ctx, RestoreRecord{Kind: RunVerify, BackupID: h.backup, DatabaseID: h.db, Status: StatusSucceeded, StartedAt: time.Now()})
	must(err)
	_, err = s.SetSetting(ctx, "ui.theme", "dark")
	must(err)
	must(s.AddHealthCheck(ctx, HealthCheck{DatabaseID: h.db, At: time.Now(), OK: true, Latency: time.Millisecond}))
	must(s.CheckIntegrity(ctx))
	return h
}

func execSQL1(t *testing.T, s *Store, q string, args ...any) {
	t.Helper()
	res, err := s.DB().Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s: %d rows changed, want 1", q, n)
	}
}

func wantDamaged(t *testing.T, err error, table, row string) {
	t.Helper()
	var d *DamagedRowError
	if !errors.As(err, &d) || d.Table != table || d.Row != row || !errors.Is(err, ErrModified) {
		t.Fatalf("want %s row %s reported as modified, got %v", table, row, err)
	}
	if !strings.Contains(err.Error(), "modified outside PgSafe") || !strings.Contains(err.Error(), table+" row "+row) {
		t.Fatalf("message does not say what happened and where: %v", err)
	}
}

// Each plaintext column that retention, the scheduler or the history act on,
// edited with SQL, makes its row fail to read, naming the table and row.
func TestEditedPlaintextColumnsAreDetected(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, table, edit string
		row               func(h history) string
		read              func(s *Store, h history) error
	}{
		{"huge stored_size", "backups", "UPDATE backups SET stored_size = 1 << 60 WHERE id = '%s'",
			func(h history) string { return h.backup }, nil},
		{"started_at moved back", "backups", "UPDATE backups SET started_at = started_at - 30*86400000 WHERE id = '%s'",
			func(h history) string { return h.backup }, nil},
		{"status", "backups", "UPDATE backups SET status = 'failed' WHERE id = '%s'",
			func(h history) string { return h.backup }, nil},
		{"database moved", "backups", "UPDATE backups SET database_id = NULL WHERE id = '%s'",
			func(h history) string { return h.backup }, nil},
		{"copy size", "backup_copies", "UPDATE backup_copies SET size = 1 << 60 WHERE backup_id = '%s' AND storage_id = 1",
			func(h history) string { return h.backup + "/1" }, nil},
		{"copy status", "backup_copies", "UPDATE backup_copies SET status = 'deleted' WHERE backup_id = '%s' AND storage_id = 1",
			func(h history) string { return h.backup + "/1" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			h := fillHistory(t, s)
			execSQL1(t, s, fmt.Sprintf(c.edit, h.backup))
			_, err := s.Backups(ctx, BackupFilter{})
			wantDamaged(t, err, c.table, c.row(h))
			_, err = s.Backup(ctx, h.backup)
			wantDamaged(t, err, c.table, c.row(h))
			// Listed for showing, the record is marked damaged, its
			// values withheld; the others are whole.
			list, err := s.Backups(ctx, BackupFilter{IncludeDamaged: true})
			if err != nil || len(list) != 2 {
				t.Fatalf("history with a damaged record: %d entries, %v", len(list), err)
			}
			for _, b := range list {
				switch {
				case b.ID == h.backup && (b.Status != StatusDamaged || b.StoredSize != 0 || !b.StartedAt.IsZero() || b.Copies != nil ||
					!strings.Contains(b.Error, "modified outside PgSafe")):
					t.Fatalf("the damaged record is listed as %+v", b)
				case b.ID == h.older && (b.Status != StatusSucceeded || len(b.Copies) != 2):
					t.Fatalf("the good record is listed as %+v", b)
				}
			}
			// The other backup still reads, and an update cannot re-bind
			// the edited column.
			if _, err := s.Backup(ctx, h.older); err != nil {
				t.Fatal(err)
			}
			if c.table == "backups" {
				err = s.UpdateBackup(ctx, Backup{ID: h.backup, Status: StatusSucceeded, Origin: OriginScheduled,
					StartedAt: time.Now(), KeyID: s.KeyID().String()})
				wantDamaged(t, err, c.table, c.row(h))
			}
			// The way out: remove the record.
			if err := s.DeleteBackup(ctx, h.backup); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Backups(ctx, BackupFilter{DatabaseID: h.db}); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckIntegrity(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}

	others := []struct {
		name, table, edit string
		row               func(h history) string
		read              func(s *Store, h history) error
	}{
		{"schedule disabled", "schedules", "UPDATE schedules SET enabled = 0 WHERE database_id = %d",
			func(h history) string { return rowID(h.db) },
			func(s *Store, h history) error { _, err := s.Schedules(ctx); return err }},
		{"next run moved", "schedules", "UPDATE schedules SET next_run_at = next_run_at + 86400000*365 WHERE database_id = %d",
			func(h history) string { return rowID(h.db) },
			func(s *Store, h history) error { _, err := s.Schedule(ctx, h.db); return err }},
		{"restore status", "restores", "UPDATE restores SET status = 'failed' WHERE database_id = %d",
			func(h history) string { return rowID(h.restore) },
			func(s *Store, h history) error { _, err := s.Restores(ctx, RestoreFilter{}); return err }},
		{"notifier disabled", "notifiers", "UPDATE notifiers SET enabled = 0 WHERE id = (SELECT min(id) FROM notifiers) AND %d > 0",
			func(h history) string { return rowID(h.notifier) },
			func(s *Store, h history) error { _, err := s.Notifiers(ctx); return err }},
		{"retention updated_at", "retention_policies", "UPDATE retention_policies SET updated_at = 0 WHERE database_id = %d",
			func(h history) string { return rowID(h.db) },
			func(s *Store, h history) error { _, err := s.Retention(ctx, h.db); return err }},
		{"health check time", "health_checks", "UPDATE health_checks SET at = 0 WHERE database_id = %d",
			func(h history) string { return "1" },
			func(s *Store, h history) error { _, err := s.HealthChecks(ctx, h.db, 0); return err }},
		{"setting row key", "settings", "UPDATE settings SET updated_at = updated_at + %d",
			func(h history) string { return "ui.theme" },
			func(s *Store, h history) error { _, err := s.Settings(ctx); return err }},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			h := fillHistory(t, s)
			execSQL1(t, s, fmt.Sprintf(c.edit, h.db))
			wantDamaged(t, c.read(s, h), c.table, c.row(h))
			if c.table == "restores" {
				runs, err := s.Restores(ctx, RestoreFilter{IncludeDamaged: true})
				if err != nil || len(runs) != 1 || runs[0].Status != StatusDamaged || runs[0].ID != h.restore || runs[0].BackupID != "" {
					t.Fatalf("runs listed with a damaged one: %+v %v", runs, err)
				}
			}
		})
	}
}

// Removing or adding a database_storages row (which would stop the off-site
// copy, or send backups elsewhere) is detected against the storage IDs sealed
// in the database's record.
func TestStorageLinksAreBound(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, edit string }{
		{"link removed", "DELETE FROM database_storages WHERE database_id = %d AND storage_id = %d"},
		{"link added", "INSERT INTO database_storages(database_id, storage_id) VALUES (%d, %d)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			h := fillHistory(t, s)
			sid := h.offsite
			if c.name == "link added" {
				var err error
				if sid, err = s.CreateStorage(ctx, StorageConfig{Name: "evil", Kind: StorageLocal, Local: &LocalStorage{Path: "/e"}}); err != nil {
					t.Fatal(err)
				}
			}
			d, err := s.Database(ctx, h.db)
			if err != nil || !slices.Equal(d.StorageIDs, []int64{h.local, h.offsite}) {
				t.Fatalf("before: %v %v", d.StorageIDs, err)
			}
			execSQL1(t, s, fmt.Sprintf(c.edit, h.db, sid))
			row := "of database " + rowID(h.db)
			_, err = s.Database(ctx, h.db)
			wantDamaged(t, err, "database_storages", row)
			_, err = s.DatabaseCredentials(ctx, h.db)
			wantDamaged(t, err, "database_storages", row)
			_, err = s.Databases(ctx)
			wantDamaged(t, err, "database_storages", row)
			if c.name == "link removed" {
				// The sealed list still holds it: the storage is still in use.
				var ce *ConflictError
				if err := s.DeleteStorage(ctx, h.offsite); !errors.As(err, &ce) {
					t.Fatalf("deleting a storage still in the sealed list: %v", err)
				}
			}
			// Saving the database's storages again repairs the index.
			c := sampleDatabase("shop")
			c.StorageIDs = []int64{h.local}
			if _, err := s.UpdateDatabase(ctx, h.db, c); err != nil {
				t.Fatal(err)
			}
			if d, err := s.Database(ctx, h.db); err != nil || !slices.Equal(d.StorageIDs, []int64{h.local}) {
				t.Fatalf("after saving again: %v %v", d.StorageIDs, err)
			}
		})
	}
}

// rowSnapshot copies every column of one row, to put it back later as an
// attacker with an older copy of the file would.
func rowSnapshot(t *testing.T, s *Store, table, where string) (cols []string, vals []any) {
	t.Helper()
	rs, err := s.DB().Query("SELECT * FROM " + table + " WHERE " + where)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if cols, err = rs.Columns(); err != nil {
		t.Fatal(err)
	}
	if !rs.Next() {
		t.Fatalf("no %s row %s", table, where)
	}
	vals = make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rs.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	return cols, vals
}

func rowRestore(t *testing.T, s *Store, table, where string, cols []string, vals []any) {
	t.Helper()
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	execSQL1(t, s, "UPDATE "+table+" SET "+strings.Join(set, ", ")+" WHERE "+where, vals...)
}

func wantModified(t *testing.T, err error) {
	t.Helper()
	var m *ModifiedError
	if !errors.As(err, &m) || !errors.Is(err, ErrModified) || !strings.Contains(err.Error(), "modified outside PgSafe") {
		t.Fatalf("want the database reported as modified outside PgSafe, got %v", err)
	}
}

// A sealed row rolled back to an older copy of itself (its old blob, old
// plaintext, old MAC: an old pinned host key) verifies on its own; the digest
// and the anchor catch it, at the next check and at the next Open.
func TestRolledBackRowIsDetected(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	h := fillHistory(t, s)
	where := fmt.Sprintf("id = %d", h.offsite)
	cols, old := rowSnapshot(t, s, "storages", where)
	c, err := s.StorageCredentials(ctx, h.offsite)
	if err != nil {
		t.Fatal(err)
	}
	c.SFTP.Host, c.SFTP.HostKey = "new.example", "ssh-ed25519 AAAAnew"
	if _, err := s.UpdateStorage(ctx, h.offsite, c); err != nil {
		t.Fatal(err)
	}
	rowRestore(t, s, "storages", where, cols, old)
	// The row alone looks fine: this is what the anchor is for.
	if st, err := s.Storage(ctx, h.offsite); err != nil || st.SFTP.HostKey != "ssh-ed25519 AAAAold" {
		t.Fatalf("rolled-back row: %v %v", st.SFTP, err)
	}
	wantModified(t, s.CheckIntegrity(ctx))
	path := s.Path()
	s.Close()
	_, err = Open(ctx, path, mk)
	wantModified(t, err)

	// A backup record rolled back from succeeded to running.
	s2, err := Accept(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.CheckIntegrity(ctx); err != nil {
		t.Fatalf("after Accept: %v", err)
	}
	_, id, _ := NewBackupID()
	b := Backup{ID: id, DatabaseID: h.db, Status: StatusRunning, Origin: OriginManual, StartedAt: time.Now(), KeyID: mk.ID().String()}
	if err := s2.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	cols, old = rowSnapshot(t, s2, "backups", "id = '"+id+"'")
	b.Status, b.FinishedAt = StatusSucceeded, time.Now()
	if err := s2.UpdateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	rowRestore(t, s2, "backups", "id = '"+id+"'", cols, old)
	wantModified(t, s2.CheckIntegrity(ctx))
	// A later write does not launder it: the digest stays off.
	if _, err := s2.SetSetting(ctx, "ui.lang", "fr"); err != nil {
		t.Fatal(err)
	}
	wantModified(t, s2.CheckIntegrity(ctx))
	s2.Close()
	_, err = Open(ctx, path, mk)
	wantModified(t, err)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The whole file replaced by an older copy, the anchor removed or edited:
// Open refuses, and says so.
func TestOlderFileAndAnchorTampering(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	h := fillHistory(t, s)
	path := s.Path()
	s.Close()
	old := filepath.Join(t.TempDir(), "old.db")
	copyFile(t, path, old)

	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBackup(ctx, h.backup); err != nil {
		t.Fatal(err)
	}
	s.Close()
	good := filepath.Join(t.TempDir(), "good.db")
	copyFile(t, path, good)
	anchor := path + AnchorSuffix
	goodAnchor, err := os.ReadFile(anchor)
	if err != nil {
		t.Fatal(err)
	}

	copyFile(t, old, path)
	_, err = Open(ctx, path, mk)
	wantModified(t, err)
	if !strings.Contains(err.Error(), "older copy") {
		t.Fatalf("the message does not say it is an older copy: %v", err)
	}

	copyFile(t, good, path)
	if s, err := Open(ctx, path, mk); err != nil {
		t.Fatalf("the current file: %v", err)
	} else {
		s.Close()
	}

	os.Remove(anchor)
	_, err = Open(ctx, path, mk)
	wantModified(t, err)

	edited := strings.Replace(string(goodAnchor), `"committed":"`, `"committed":"1`, 1)
	if err := os.WriteFile(anchor, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, mk)
	wantModified(t, err)

	// An anchor of another installation does not authenticate.
	other, _ := openTemp(t)
	fillHistory(t, other)
	other.Close()
	copyFile(t, other.Path()+AnchorSuffix, anchor)
	_, err = Open(ctx, path, mk)
	wantModified(t, err)

	if err := os.WriteFile(anchor, goodAnchor, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A crash between the commit and the anchor's update, and one between the
// anchor's preparation and the commit, are not reported as tampering.
func TestCrashAroundTheAnchorIsNoFalseAlarm(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	fillHistory(t, s)
	path := s.Path()
	crash := errors.New("simulated crash")

	// Committed, anchor not finished.
	s.hooks.afterCommit = func() error { return crash }
	if _, err := s.SetSetting(ctx, "ui.theme", "light"); !errors.Is(err, crash) {
		t.Fatalf("hook: %v", err)
	}
	s.hooks.afterCommit = nil
	a, err := s.anchor.load()
	if err != nil || a.Pending == nil {
		t.Fatalf("the anchor should hold a pending change: %+v %v", a, err)
	}
	other, err := Open(ctx, path, mk) // another process opens meanwhile
	if err != nil {
		t.Fatalf("open after a crash between commit and anchor: %v", err)
	}
	if v, err := other.Setting(ctx, "ui.theme"); err != nil || v != "light" {
		t.Fatalf("the committed write: %q %v", v, err)
	}
	if a, err := s.anchor.load(); err != nil || a.Pending != nil {
		t.Fatalf("Open did not finish the anchor: %+v %v", a, err)
	}
	other.Close()

	// Anchor prepared, the commit never happened.
	s.hooks.beforeCommit = func() error { return crash }
	if _, err := s.SetSetting(ctx, "ui.theme", "blue"); !errors.Is(err, crash) {
		t.Fatalf("hook: %v", err)
	}
	s.hooks.beforeCommit = nil
	if a, err := s.anchor.load(); err != nil || a.Pending == nil {
		t.Fatalf("the anchor should hold a pending change: %+v %v", a, err)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatalf("check after a crash before commit: %v", err)
	}
	if v, _ := s.Setting(ctx, "ui.theme"); v != "light" {
		t.Fatalf("the write that never committed is there: %q", v)
	}
	// The next write goes on from the committed state.
	if _, err := s.SetSetting(ctx, "ui.theme", "green"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// makeV2 writes a settings database as PgSafe with schema version 2 did,

// v2Manifest is the manifest sealed in makeV2's backup record, as PgSafe
// kept it before schema version 4.
var v2Manifest = json.RawMessage(`{"kind":"pgsafe-manifest","backup_id":"ab12","globals_missing":"pg_dumpall 12 is too old","tables":[{"schema":"public","name":"orders","rows":3}]}`)

// with one row in every table, and returns what it wrote.
func makeV2(t *testing.T, path string, mk *keys.MasterKey) {
	t.Helper()
	sealer, err := seal.New(mk)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{sealer: sealer} // only for sealRow
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blob := func(table, row string, v any) []byte {
		b, err := old.sealRow(table, row, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dbc := sampleDatabase("shop")
	dbc.Password = NewSecret("hunter2")
	dbc.StorageIDs = nil // version 2 kept them in database_storages only
	now := time.Now().UnixMilli()
	stmts := []struct {
		q    string
		args []any
	}{
		{schemaV1, nil},
		{schemaV2, nil},
		{fmt.Sprintf("PRAGMA application_id = %d", applicationID), nil},
		{"PRAGMA user_version = 2", nil},
		{"INSERT INTO meta(key, value) VALUES ('key_id', ?), ('created_at', ?)", []any{mk.ID().String(), fmt.Sprint(now)}},
		{"INSERT INTO storages(id, kind, created_at, updated_at, sealed) VALUES (1, 'local', ?, ?, ?)",
			[]any{now, now, blob("storages", "1", StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/b"}})}},
		{"INSERT INTO storages(id, kind, created_at, updated_at, sealed) VALUES (2, 'local', ?, ?, ?)",
			[]any{now, now, blob("storages", "2", StorageConfig{Name: "usb", Kind: StorageLocal, Local: &LocalStorage{Path: "/u"}})}},
		{"INSERT INTO databases(id, created_at, updated_at, sealed) VALUES (1, ?, ?, ?)", []any{now, now, blob("databases", "1", dbc)}},
		{"INSERT INTO database_storages(database_id, storage_id) VALUES (1, 1), (1, 2)", nil},
		{"INSERT INTO notifiers(id, kind, enabled, created_at, updated_at, sealed) VALUES (1, 'email', 1, ?, ?, ?)",
			[]any{now, now, blob("notifiers", "1", NotifierConfig{Name: "mail", Kind: NotifierEmail, Enabled: true})}},
		{"INSERT INTO schedules(database_id, enabled, last_run_at, next_run_at, updated_at, sealed) VALUES (1, 1, NULL, ?, ?, ?)",
			[]any{now + 1000, now, blob("schedules", "1", ScheduleConfig{Enabled: true, Kind: ScheduleDaily, At: "03:00"})}},
		{"INSERT INTO retention_policies(database_id, updated_at, sealed) VALUES (1, ?, ?)",
			[]any{now, blob("retention_policies", "1", RetentionPolicy{KeepLast: 3})}},
		{"INSERT INTO backups(id, database_id, status, origin, started_at, finished_at, raw_size, stored_size, key_id, sealed) VALUES ('ab12', 1, 'succeeded', 'manual', ?, ?, 1000, 400, ?, ?)",
			[]any{now - 5000, now - 4000, mk.ID().String(), blob("backups", "ab12", BackupDetails{DatabaseName: "shop", Manifest: v2Manifest})}},
		{"INSERT INTO backup_copies(backup_id, storage_id, status, size, updated_at, sealed) VALUES ('ab12', 1, 'written', 400, ?, ?)",
			[]any{now, blob("backup_copies", "ab12/1", copyDetails{Object: "ab12.pgsafe"})}},
		{"INSERT INTO restores(id, kind, backup_id, database_id, status, started_at, finished_at, sealed) VALUES (1, 'verify', 'ab12', 1, 'succeeded', ?, ?, ?)",
			[]any{now, now, blob("restores", "1", RestoreDetails{Target: "t"})}},
		{"INSERT INTO settings(key, updated_at, sealed) VALUES ('ui.theme', ?, ?)", []any{now, blob("settings", "ui.theme", settingValue{"dark"})}},
		{"INSERT INTO health_checks(id, database_id, at, ok, latency_ms, sealed) VALUES (1, 1, ?, 1, 5, ?)",
			[]any{now, blob("health_checks", "1", HealthDetails{})}},
	}
	for _, st := range stmts {
		if _, err := db.Exec(st.q, st.args...); err != nil {
			t.Fatalf("%.60s: %v", st.q, err)
		}
	}
}

// Upgrading from schema version 2 keeps every row, seals the storage list
// into the database's record, and binds every row: edits after the upgrade
// are detected.
func TestMigrationBindsExistingRows(t *testing.T) {
	ctx := context.Background()
	mk := newKey(t)
	path := filepath.Join(t.TempDir(), FileName)
	makeV2(t, path, mk)
	if _, err := os.Stat(path + AnchorSuffix); err == nil {
		t.Fatal("anchor before the upgrade")
	}
	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.DB().QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion || SchemaVersion < 3 {
		t.Fatalf("user_version %d", v)
	}
	if _, err := os.Stat(path + AnchorSuffix); err != nil {
		t.Fatalf("no anchor after the upgrade: %v", err)
	}
	creds, err := s.DatabaseCredentials(ctx, 1)
	if err != nil || creds.Name != "shop" || creds.Password.Reveal() != "hunter2" || !slices.Equal(creds.StorageIDs, []int64{1, 2}) {
		t.Fatalf("database after upgrade: %+v %v", creds, err)
	}
	if st, err := s.Storages(ctx); err != nil || len(st) != 2 {
		t.Fatalf("storages: %v %v", st, err)
	}
	if n, err := s.Notifiers(ctx); err != nil || len(n) != 1 || !n[0].Enabled {
		t.Fatalf("notifiers: %v %v", n, err)
	}
	if sc, err := s.Schedule(ctx, 1); err != nil || sc.At != "03:00" || sc.NextRunAt.IsZero() {
		t.Fatalf("schedule: %+v %v", sc, err)
	}
	if r, err := s.Retention(ctx, 1); err != nil || r.KeepLast != 3 {
		t.Fatalf("retention: %+v %v", r, err)
	}
	b, err := s.Backup(ctx, "ab12")
	if err != nil || b.StoredSize != 400 || b.DatabaseName != "shop" || len(b.Copies) != 1 || b.Copies[0].Object != "ab12.pgsafe" {
		t.Fatalf("backup: %+v %v", b, err)
	}
	// Version 4 moved the manifest out of the backup's record into a row of
	// its own, and the reason the roles are missing into the record.
	if string(b.Manifest) != string(v2Manifest) || b.GlobalsMissing != "pg_dumpall 12 is too old" {
		t.Fatalf("after the upgrade the manifest is %s, roles missing %q", b.Manifest, b.GlobalsMissing)
	}
	var sealed []byte
	var d BackupDetails
	if err := s.DB().QueryRow("SELECT sealed FROM backups WHERE id = 'ab12'").Scan(&sealed); err != nil || s.openRow("backups", "ab12", sealed, &d, false) != nil || d.Manifest != nil {
		t.Fatalf("the backup's record still holds the manifest: %s (%v)", d.Manifest, err)
	}
	if list, err := s.Backups(ctx, BackupFilter{}); err != nil || len(list) != 1 || list[0].Manifest != nil || list[0].GlobalsMissing == "" {
		t.Fatalf("listed without manifests: %+v, %v", list, err)
	}
	if r, err := s.Restores(ctx, RestoreFilter{}); err != nil || len(r) != 1 || r[0].Target != "t" {
		t.Fatalf("restores: %+v %v", r, err)
	}
	if v, err := s.Setting(ctx, "ui.theme"); err != nil || v != "dark" {
		t.Fatalf("setting: %q %v", v, err)
	}
	if hc, err := s.HealthChecks(ctx, 1, 0); err != nil || len(hc) != 1 {
		t.Fatalf("health: %v %v", hc, err)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	// The file put back to its version 2 copy while the anchor stays: the
	// upgrade's anchor catches it; Accept takes it as it is.
	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
	makeV2(t, path, mk)
	_, err = Open(ctx, path, mk)
	wantModified(t, err)
	s, err = Accept(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Backup(ctx, "ab12"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	execSQL1(t, s, "UPDATE backups SET stored_size = 1 << 60 WHERE id = 'ab12'")
	_, err = s.Backups(ctx, BackupFilter{})
	wantDamaged(t, err, "backups", "ab12")
	execSQL1(t, s, "DELETE FROM database_storages WHERE storage_id = 2")
	_, err = s.Database(ctx, 1)
	wantDamaged(t, err, "database_storages", "of database 1")
}

// Damaged lists every modified row; ForgetDamaged removes the history ones;
// Accept binds the rest as they are and rebuilds the storage links from the
// sealed lists.
func TestDamagedForgetAndAccept(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	h := fillHistory(t, s)
	execSQL1(t, s, "UPDATE backups SET stored_size = 1 << 60 WHERE id = ?", h.backup)
	execSQL1(t, s, "UPDATE databases SET updated_at = 0 WHERE id = ?", h.db)
	execSQL1(t, s, "DELETE FROM database_storages WHERE database_id = ? AND storage_id = ?", h.db, h.offsite)
	names := func() []string {
		t.Helper()
		d, err := s.Damaged(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range d {
			out = append(out, r.Table+" "+r.Row)
		}
		return out
	}
	want := []string{"databases " + rowID(h.db), "backups " + h.backup, "database_storages of database " + rowID(h.db)}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("Damaged = %q, want %q", got, want)
	}
	gone, err := s.ForgetDamaged(ctx)
	if err != nil || len(gone) != 1 || gone[0].Table != "backups" || gone[0].Row != h.backup {
		t.Fatalf("ForgetDamaged = %v, %v", gone, err)
	}
	if _, err := s.Backup(ctx, h.backup); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the forgotten backup: %v", err)
	}
	if got := names(); !slices.Equal(got, []string{want[0], want[2]}) {
		t.Fatalf("after forgetting: %q", got)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	s, err = Accept(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := names(); len(got) != 0 {
		t.Fatalf("after Accept: %q", got)
	}
	d, err := s.Database(ctx, h.db)
	if err != nil || !slices.Equal(d.StorageIDs, []int64{h.local, h.offsite}) {
		t.Fatalf("after Accept: %v %v", d.StorageIDs, err)
	}
	if err := s.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
}
