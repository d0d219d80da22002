package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func sampleDatabase(name string) DatabaseConfig {
	return DatabaseConfig{
		Name: name, Host: "db.example.internal", Port: 5432, DBName: "shop", User: "backup",
		Password: NewSecret("pw-" + name), SSLMode: "verify-full", SSLRootCert: "/etc/ca.pem",
		CountRows: true,
	}
}

func TestDatabaseCRUDAndSecretsWriteOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	sid, err := s.CreateStorage(ctx, StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/backups"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sampleDatabase("shop")
	cfg.SSH = &SSHTunnel{Host: "bastion", User: "jump", PrivateKey: NewSecret("-----KEY-----"), HostKey: "ssh-ed25519 AAAA"}
	cfg.StorageIDs = []int64{sid}
	id, err := s.CreateDatabase(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Password.HasValue() || !cfg.SSH.PrivateKey.HasValue() {
		t.Fatal("CreateDatabase changed the caller's config")
	}

	// Views: everything but the secrets' values.
	d, err := s.Database(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Name != "shop" || d.Host != "db.example.internal" || d.Port != 5432 || !d.CountRows ||
		d.SSH == nil || d.SSH.Host != "bastion" || !slices.Equal(d.StorageIDs, []int64{sid}) || d.CreatedAt.IsZero() {
		t.Fatalf("Database = %+v", d)
	}
	if !d.Password.IsSet() || d.Password.HasValue() || d.Password.Reveal() != "" || !d.SSH.PrivateKey.IsSet() || d.SSH.PrivateKey.Reveal() != "" {
		t.Fatalf("view leaks or loses secrets: password set=%v value=%v", d.Password.IsSet(), d.Password.HasValue())
	}
	if d.SSLPassword.IsSet() || d.SSH.Password.IsSet() {
		t.Fatal("an unset secret reads as set")
	}
	js, _ := json.Marshal(d)
	if strings.Contains(string(js), "pw-shop") || strings.Contains(string(js), "KEY") || !strings.Contains(string(js), `"password":{"set":true}`) {
		t.Fatalf("JSON view: %s", js)
	}
	list, err := s.Databases(ctx)
	if err != nil || len(list) != 1 || list[0].Password.HasValue() {
		t.Fatalf("Databases = %+v, %v", list, err)
	}
	byName, err := s.DatabaseByName(ctx, "SHOP")
	if err != nil || byName.ID != id {
		t.Fatalf("DatabaseByName (case-insensitive) = %+v, %v", byName, err)
	}

	// Only DatabaseCredentials reveals secrets.
	cred, err := s.DatabaseCredentials(ctx, id)
	if err != nil || cred.Password.Reveal() != "pw-shop" || cred.SSH.PrivateKey.Reveal() != "-----KEY-----" || !slices.Equal(cred.StorageIDs, []int64{sid}) {
		t.Fatalf("DatabaseCredentials = %+v, %v", cred, err)
	}

	// The UI sends the view back with one field changed: secrets are kept.
	upd := d.DatabaseConfig
	upd.Host = "db2.example.internal"
	ch, err := s.UpdateDatabase(ctx, id, upd)
	if err != nil || ch.String() != "host" {
		t.Fatalf("UpdateDatabase host: changes %v, %v", ch, err)
	}
	if cred, _ = s.DatabaseCredentials(ctx, id); cred.Password.Reveal() != "pw-shop" || cred.SSH.PrivateKey.Reveal() != "-----KEY-----" {
		t.Fatal("an update without secrets lost the stored ones")
	}
	// Also through JSON, as the UI does.
	var fromUI DatabaseConfig
	if err := json.Unmarshal(js, &fromUI); err != nil {
		t.Fatal(err)
	}
	fromUI.Host = "db2.example.internal"
	if ch, err = s.UpdateDatabase(ctx, id, fromUI); err != nil || len(ch) != 0 {
		t.Fatalf("round trip through JSON: changes %v, %v", ch, err)
	}

	// Replace the password, remove the tunnel's key passphrase-less key for a password.
	upd.Password = NewSecret("new-pw")
	upd.SSH.PrivateKey = RemoveSecret()
	upd.SSH.Password = NewSecret("tunnel-pw")
	upd.Port = 6432
	ch, err = s.UpdateDatabase(ctx, id, upd)
	if err != nil || ch.String() != "port, password, ssh.password, ssh.private_key" {
		t.Fatalf("UpdateDatabase secrets: changes %q, %v", ch, err)
	}
	cred, _ = s.DatabaseCredentials(ctx, id)
	if cred.Password.Reveal() != "new-pw" || cred.SSH.PrivateKey.IsSet() || cred.SSH.Password.Reveal() != "tunnel-pw" || cred.Port != 6432 {
		t.Fatalf("after update: %+v", cred)
	}
	// No change, no write.
	before, _ := s.Database(ctx, id)
	time.Sleep(2 * time.Millisecond)
	if ch, err = s.UpdateDatabase(ctx, id, cred); err != nil || len(ch) != 0 {
		t.Fatalf("identical update: %v, %v", ch, err)
	}
	if after, _ := s.Database(ctx, id); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("an update without changes was written")
	}
	// Storages are a change too.
	cred.StorageIDs = nil
	if ch, err = s.UpdateDatabase(ctx, id, cred); err != nil || ch.String() != "storage_ids" {
		t.Fatalf("storage change: %v, %v", ch, err)
	}

	// Validation and conflicts.
	if _, err := s.CreateDatabase(ctx, sampleDatabase("Shop")); !errors.As(err, new(*ConflictError)) {
		t.Fatalf("duplicate name (case-insensitive): %v", err)
	}
	bad := sampleDatabase("x")
	bad.SSLMode = "sometimes"
	var ve *ValidationError
	if _, err := s.CreateDatabase(ctx, bad); !errors.As(err, &ve) || ve.Field != "sslmode" {
		t.Fatalf("bad sslmode: %v", err)
	}
	bad = sampleDatabase("x")
	bad.StorageIDs = []int64{999}
	if _, err := s.CreateDatabase(ctx, bad); !errors.As(err, &ve) || ve.Field != "storage_ids" {
		t.Fatalf("unknown storage: %v", err)
	}
	if dbs, _ := s.Databases(ctx); len(dbs) != 1 {
		t.Fatalf("a refused create left %d databases", len(dbs))
	}
	if _, err := s.UpdateDatabase(ctx, 999, sampleDatabase("y")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing database: %v", err)
	}

	// Delete; the id is never reused.
	if err := s.DeleteDatabase(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Database(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteDatabase(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	id2, err := s.CreateDatabase(ctx, sampleDatabase("shop"))
	if err != nil || id2 <= id {
		t.Fatalf("new id %d after deleting %d (%v)", id2, id, err)
	}
}

func TestStorageCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, err := s.CreateStorage(ctx, StorageConfig{Name: "offsite", Kind: StorageS3, S3: &S3Storage{
		Endpoint: "https://s3.example", Region: "eu", Bucket: "b", AccessKeyID: "AKIA", SecretAccessKey: NewSecret("sk"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Storage(ctx, id)
	if err != nil || st.Kind != StorageS3 || st.S3.Bucket != "b" || !st.S3.SecretAccessKey.IsSet() || st.S3.SecretAccessKey.HasValue() || st.S3.SessionToken.IsSet() {
		t.Fatalf("Storage = %+v, %v", st, err)
	}
	var kind string
	s.DB().QueryRow("SELECT kind FROM storages WHERE id = ?", id).Scan(&kind)
	if kind != "s3" {
		t.Fatalf("kind column = %q", kind)
	}
	cfg := st.StorageConfig
	cfg.S3.Prefix = "pgsafe/"
	if ch, err := s.UpdateStorage(ctx, id, cfg); err != nil || ch.String() != "s3.prefix" {
		t.Fatalf("UpdateStorage: %v, %v", ch, err)
	}
	if c, _ := s.StorageCredentials(ctx, id); c.S3.SecretAccessKey.Reveal() != "sk" || c.S3.Prefix != "pgsafe/" {
		t.Fatalf("StorageCredentials = %+v", c.S3)
	}
	cfg.Kind, cfg.S3, cfg.Local = StorageLocal, nil, &LocalStorage{Path: "/x"}
	if _, err := s.UpdateStorage(ctx, id, cfg); err == nil || !strings.Contains(err.Error(), "cannot become") {
		t.Fatalf("kind change: %v", err)
	}
	if _, err := s.CreateStorage(ctx, StorageConfig{Name: "half", Kind: StorageSFTP, SFTP: &SFTPStorage{Host: "h", User: "u"}}); err == nil {
		t.Fatal("SFTP storage without any credential accepted")
	}
	if _, err := s.CreateStorage(ctx, StorageConfig{Name: "two", Kind: StorageLocal, Local: &LocalStorage{Path: "/x"}, S3: &S3Storage{Bucket: "b"}}); err == nil {
		t.Fatal("storage with two kinds' settings accepted")
	}
	sftp, err := s.CreateStorage(ctx, StorageConfig{Name: "nas", Kind: StorageSFTP, SFTP: &SFTPStorage{Host: "h", User: "u", Password: NewSecret("p"), Path: "/b"}})
	if err != nil {
		t.Fatal(err)
	}
	if byName, err := s.StorageByName(ctx, "nas"); err != nil || byName.ID != sftp {
		t.Fatalf("StorageByName: %v", err)
	}
	// A storage in use cannot go.
	db, err := s.CreateDatabase(ctx, DatabaseConfig{Name: "d", Host: "h", DBName: "d", User: "u", StorageIDs: []int64{sftp}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStorage(ctx, sftp); !errors.As(err, new(*ConflictError)) {
		t.Fatalf("delete of a storage in use: %v", err)
	}
	if err := s.DeleteDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStorage(ctx, sftp); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Storages(ctx); err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("Storages = %+v, %v", list, err)
	}
}

func TestNotifierCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, err := s.CreateNotifier(ctx, NotifierConfig{Name: "ops", Kind: NotifierEmail, Enabled: true,
		Events:   []string{"backup.failed"},
		Settings: map[string]string{"smtp_host": "mail", "to": "ops@example.com"},
		Secrets:  map[string]Secret{"password": NewSecret("smtp-pw"), "unused": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Notifier(ctx, id)
	if err != nil || n.Settings["to"] != "ops@example.com" || !n.Secrets["password"].IsSet() || n.Secrets["password"].HasValue() || len(n.Secrets) != 1 {
		t.Fatalf("Notifier = %+v, %v", n, err)
	}
	// An update that leaves the secrets out keeps them.
	cfg := n.NotifierConfig
	cfg.Secrets = nil
	cfg.Settings = map[string]string{"smtp_host": "mail2", "to": "ops@example.com", "port": "587"}
	cfg.Enabled = false
	ch, err := s.UpdateNotifier(ctx, id, cfg)
	if err != nil || ch.String() != "enabled, settings.port, settings.smtp_host" {
		t.Fatalf("UpdateNotifier: %q, %v", ch, err)
	}
	c, _ := s.NotifierCredentials(ctx, id)
	if c.Secrets["password"].Reveal() != "smtp-pw" || c.Enabled {
		t.Fatalf("NotifierCredentials = %+v", c)
	}
	var enabled bool
	s.DB().QueryRow("SELECT enabled FROM notifiers WHERE id = ?", id).Scan(&enabled)
	if enabled {
		t.Fatal("enabled column not updated")
	}
	cfg.Secrets = map[string]Secret{"password": RemoveSecret(), "token": NewSecret("t")}
	if ch, err = s.UpdateNotifier(ctx, id, cfg); err != nil || ch.String() != "secrets.password, secrets.token" {
		t.Fatalf("secret changes: %q, %v", ch, err)
	}
	if c, _ = s.NotifierCredentials(ctx, id); len(c.Secrets) != 1 || c.Secrets["token"].Reveal() != "t" {
		t.Fatalf("after removing a secret: %v", c.Secrets)
	}
	if _, err := s.CreateNotifier(ctx, NotifierConfig{Name: "x", Kind: "pager"}); err == nil {
		t.Fatal("unknown notifier kind accepted")
	}
	if list, _ := s.Notifiers(ctx); len(list) != 1 {
		t.Fatalf("Notifiers = %d", len(list))
	}
	if err := s.DeleteNotifier(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestScheduleAndRetention(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	db, _ := s.CreateDatabase(ctx, sampleDatabase("a"))
	db2, _ := s.CreateDatabase(ctx, sampleDatabase("b"))
	if _, err := s.Schedule(ctx, db); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no schedule yet: %v", err)
	}
	ch, err := s.SetSchedule(ctx, db, ScheduleConfig{Enabled: true, Kind: ScheduleDaily, At: "02:30", TimeZone: "Europe/Paris"})
	if err != nil || ch.String() != "enabled, kind, at, time_zone" {
		t.Fatalf("SetSchedule: %q, %v", ch, err)
	}
	if _, err := s.SetSchedule(ctx, db2, ScheduleConfig{Enabled: true, Kind: ScheduleEvery, Every: 6 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []ScheduleConfig{{Kind: "hourly"}, {Kind: ScheduleDaily, At: "25:00"}, {Kind: ScheduleWeekly, At: "01:00"},
		{Kind: ScheduleMonthly, At: "01:00", DayOfMonth: 32}, {Kind: ScheduleEvery, Every: time.Second}, {Kind: ScheduleDaily, At: "01:00", TimeZone: "Mars/Base"}} {
		if _, err := s.SetSchedule(ctx, db, bad); !errors.As(err, new(*ValidationError)) {
			t.Errorf("SetSchedule(%+v): %v", bad, err)
		}
	}
	if _, err := s.SetSchedule(ctx, 999, ScheduleConfig{Kind: ScheduleDaily, At: "01:00"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("schedule for a missing database: %v", err)
	}
	last := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	next := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.MarkScheduleRun(ctx, db2, last, next); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkScheduleRun(ctx, db, time.Time{}, next.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := s.Schedules(ctx)
	if err != nil || len(list) != 2 || list[0].DatabaseID != db2 || !list[0].LastRunAt.Equal(last) || !list[0].NextRunAt.Equal(next) ||
		list[1].At != "02:30" || !list[1].LastRunAt.IsZero() {
		t.Fatalf("Schedules = %+v, %v", list, err)
	}
	if ch, err = s.SetSchedule(ctx, db, ScheduleConfig{Enabled: false, Kind: ScheduleDaily, At: "02:30", TimeZone: "Europe/Paris"}); err != nil || ch.String() != "enabled" {
		t.Fatalf("disable: %q, %v", ch, err)
	}
	if err := s.ClearSchedule(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearSchedule(ctx, db); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second clear: %v", err)
	}

	if ch, err = s.SetRetention(ctx, db, RetentionPolicy{KeepLast: 7, Daily: 14, MaxSizeBytes: 1 << 30}); err != nil || ch.String() != "keep_last, daily, max_size_bytes" {
		t.Fatalf("SetRetention: %q, %v", ch, err)
	}
	if ch, err = s.SetRetention(ctx, db, RetentionPolicy{KeepLast: 7, Daily: 30, MaxSizeBytes: 1 << 30}); err != nil || ch.String() != "daily" {
		t.Fatalf("SetRetention again: %q, %v", ch, err)
	}
	r, err := s.Retention(ctx, db)
	if err != nil || r.KeepLast != 7 || r.Daily != 30 {
		t.Fatalf("Retention = %+v, %v", r, err)
	}
	if _, err := s.SetRetention(ctx, db, RetentionPolicy{KeepLast: -1}); err == nil {
		t.Fatal("negative retention accepted")
	}
	// Deleting the database takes its schedule and policy along.
	if err := s.DeleteDatabase(ctx, db2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Schedule(ctx, db2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("schedule of a removed database: %v", err)
	}
	if err := s.ClearRetention(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retention(ctx, db); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cleared retention: %v", err)
	}
}

func TestBackupAndRestoreRecords(t *testing.T) {
	ctx := context.Background()
	s, mk := openTemp(t)
	db, _ := s.CreateDatabase(ctx, sampleDatabase("a"))
	st, _ := s.CreateStorage(ctx, StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/b"}})
	_, id, err := NewBackupID()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	b := Backup{ID: id, DatabaseID: db, Status: StatusRunning, Origin: OriginScheduled, StartedAt: start, KeyID: mk.ID().String(),
		BackupDetails: BackupDetails{DatabaseName: "a"}}
	if err := s.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBackup(ctx, b); !errors.As(err, new(*ConflictError)) {
		t.Fatalf("duplicate backup: %v", err)
	}
	if err := s.SetBackupCopy(ctx, id, BackupCopy{StorageID: st, Status: CopyWriting, Object: "pgsafe/a/" + id}); err != nil {
		t.Fatal(err)
	}
	b.Status, b.FinishedAt, b.RawSize, b.StoredSize = StatusSucceeded, start.Add(30*time.Second), 1000, 400
	b.Manifest = json.RawMessage(`{"tables":{"public.orders":42}}`)
	if err := s.UpdateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBackupCopy(ctx, id, BackupCopy{StorageID: st, Status: CopyWritten, Size: 400, Object: "pgsafe/a/" + id}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBackupCopy(ctx, id, BackupCopy{StorageID: 999, Status: CopyWritten}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("copy on a missing storage: %v", err)
	}
	got, err := s.Backup(ctx, id)
	if err != nil || got.Status != StatusSucceeded || !got.StartedAt.Equal(start) || got.StoredSize != 400 || got.KeyID != mk.ID().String() ||
		string(got.Manifest) != `{"tables":{"public.orders":42}}` || len(got.Copies) != 1 || got.Copies[0].Status != CopyWritten || got.Copies[0].Object != "pgsafe/a/"+id {
		t.Fatalf("Backup = %+v, %v", got, err)
	}
	// A failed one, older.
	_, id2, _ := NewBackupID()
	if err := s.CreateBackup(ctx, Backup{ID: id2, DatabaseID: db, Status: StatusFailed, Origin: OriginManual, StartedAt: start.Add(-time.Hour),
		FinishedAt: start.Add(-time.Hour), KeyID: mk.ID().String(), BackupDetails: BackupDetails{Error: "pg_dump: connection refused"}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Backups(ctx, BackupFilter{DatabaseID: db})
	if err != nil || len(list) != 2 || list[0].ID != id || list[1].Error != "pg_dump: connection refused" {
		t.Fatalf("Backups = %+v, %v", list, err)
	}
	if list, _ = s.Backups(ctx, BackupFilter{Status: StatusSucceeded, Limit: 1}); len(list) != 1 || list[0].ID != id {
		t.Fatalf("filtered Backups = %+v", list)
	}
	for _, bad := range []Backup{{ID: "NOT HEX", Status: StatusRunning, Origin: OriginManual, StartedAt: start, KeyID: mk.ID().String()},
		{ID: "ab", Status: "done", Origin: OriginManual, StartedAt: start, KeyID: mk.ID().String()},
		{ID: "ab", Status: StatusRunning, Origin: OriginManual, StartedAt: start, KeyID: "nope"}} {
		if err := s.CreateBackup(ctx, bad); !errors.As(err, new(*ValidationError)) {
			t.Errorf("CreateBackup(%+v): %v", bad, err)
		}
	}

	// Verify and restore runs.
	rid, err := s.CreateRestore(ctx, RestoreRecord{Kind: RunVerify, BackupID: id, DatabaseID: db, Status: StatusRunning, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Restore(ctx, rid)
	r.Status, r.FinishedAt, r.StorageID, r.Problems = StatusFailed, time.Now(), st, []string{"tampered chunk at offset 65536"}
	if err := s.UpdateRestore(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRestore(ctx, RestoreRecord{Kind: RunRestore, Status: StatusSucceeded, StartedAt: time.Now(), RestoreDetails: RestoreDetails{Target: "local/newdb"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRestore(ctx, RestoreRecord{Kind: RunDrill, BackupID: "feed", Status: StatusRunning, StartedAt: time.Now()}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("run of a missing backup: %v", err)
	}
	runs, err := s.Restores(ctx, RestoreFilter{BackupID: id})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusFailed || runs[0].Problems[0] != "tampered chunk at offset 65536" || runs[0].StorageID != st {
		t.Fatalf("Restores = %+v, %v", runs, err)
	}
	if all, _ := s.Restores(ctx, RestoreFilter{}); len(all) != 2 || all[0].Kind != RunRestore {
		t.Fatalf("all runs = %+v", all)
	}

	// Removing the database keeps the history, unlinked.
	if err := s.DeleteDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Backup(ctx, id); err != nil || got.DatabaseID != 0 || got.DatabaseName != "a" {
		t.Fatalf("backup after its database went: %+v, %v", got, err)
	}
	if err := s.DeleteBackup(ctx, id); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.Restores(ctx, RestoreFilter{Kind: RunVerify}); len(runs) != 1 || runs[0].BackupID != "" {
		t.Fatalf("run after its backup went: %+v", runs)
	}
	var copies int
	s.DB().QueryRow("SELECT count(*) FROM backup_copies").Scan(&copies)
	if copies != 0 {
		t.Fatalf("%d copy records outlived their backup", copies)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.Setting(ctx, "ui.theme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset setting: %v", err)
	}
	if changed, err := s.SetSetting(ctx, "ui.theme", "dark"); err != nil || !changed {
		t.Fatalf("SetSetting: %v, %v", changed, err)
	}
	if changed, err := s.SetSetting(ctx, "ui.theme", "dark"); err != nil || changed {
		t.Fatalf("SetSetting same value: %v, %v", changed, err)
	}
	s.SetSetting(ctx, "schedule.max_parallel", "2")
	if v, err := s.Setting(ctx, "ui.theme"); err != nil || v != "dark" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
	all, err := s.Settings(ctx)
	if err != nil || len(all) != 2 || all["schedule.max_parallel"] != "2" {
		t.Fatalf("Settings = %v, %v", all, err)
	}
	if _, err := s.SetSetting(ctx, "My Setting", "x"); err == nil {
		t.Fatal("a free-text setting name was accepted")
	}
	if err := s.DeleteSetting(ctx, "ui.theme"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSetting(ctx, "ui.theme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestHealthChecks(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	id, err := s.CreateDatabase(ctx, DatabaseConfig{Name: "shop", Host: "db.example", Port: 5432, DBName: "shop", User: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := 0; i < HealthKeep+3; i++ {
		h := HealthCheck{DatabaseID: id, At: base.Add(time.Duration(i) * time.Minute), OK: i%2 == 0, Latency: time.Duration(i) * time.Millisecond}
		if !h.OK {
			h.Error = "connection refused"
		}
		if err := s.AddHealthCheck(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.HealthChecks(ctx, id, 0)
	if err != nil || len(all) != HealthKeep {
		t.Fatalf("kept %d checks (%v), want %d", len(all), err, HealthKeep)
	}
	newest := all[0]
	if !newest.At.Equal(base.Add(time.Duration(HealthKeep+2)*time.Minute)) || !newest.OK || newest.Latency != time.Duration(HealthKeep+2)*time.Millisecond {
		t.Fatalf("newest %+v", newest)
	}
	if all[1].OK || all[1].Error != "connection refused" {
		t.Fatalf("second newest %+v", all[1])
	}
	if err := s.DeleteDatabase(ctx, id); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.HealthChecks(ctx, id, 0); len(left) != 0 {
		t.Fatalf("%d checks outlived their database", len(left))
	}
}
