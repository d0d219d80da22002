package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// bigShop is a database whose dump takes long enough to interrupt.
func bigShop(t *testing.T) (*testenv.PG, string) {
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS note
		FROM generate_series(1, 600000) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-9'; GRANT SELECT ON orders TO reader;`)
	return srv, strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-9", 1)
}

// The S3 server dies mid-backup: the backup still lands in the folder and on
// the SFTP server, the S3 copy is recorded as failed with why, and the
// history and audit log say "2 of 3".
func TestBackupSurvivesAStorageDroppingOut(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	_, url := bigShop(t)
	s3srv := testenv.S3(t)
	s3srv.CreateBucket(t, "backups")
	sftpSrv := testenv.SFTP(t)
	folder := t.TempDir()
	for _, c := range []store.StorageConfig{
		{Name: "folder", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}},
		{Name: "s3", Kind: store.StorageS3, S3: &store.S3Storage{Endpoint: s3srv.Endpoint, Bucket: "backups", PathStyle: true,
			AccessKeyID: s3srv.AccessKey, SecretAccessKey: store.NewSecret(s3srv.SecretKey)}},
		{Name: "sftp", Kind: store.StorageSFTP, SFTP: &store.SFTPStorage{Host: sftpSrv.Host, Port: sftpSrv.Port, User: sftpSrv.User,
			PrivateKey: store.NewSecret(string(sftpSrv.PrivateKey)), HostKey: sftpSrv.KnownHostsLine()[strings.Index(sftpSrv.KnownHostsLine(), " ")+1:]}},
	} {
		if _, err := e.AddStorage(ctx, c); err != nil {
			t.Fatalf("add %s: %v", c.Name, err)
		}
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"folder", "s3", "sftp"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, func(p backup.Progress) {
		if p.StoredBytes > 4<<20 {
			once.Do(s3srv.Stop)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.StatusSucceeded || !strings.HasPrefix(b.Error, "written to 2 of 3 storages; storage s3: ") {
		t.Fatalf("backup %s: %q", b.Status, b.Error)
	}
	got := map[store.CopyStatus]int{}
	for _, c := range b.Copies {
		got[c.Status]++
		if c.Status == store.CopyFailed && c.Error == "" {
			t.Errorf("a failed copy without a reason: %+v", c)
		}
	}
	if got[store.CopyWritten] != 2 || got[store.CopyFailed] != 1 {
		t.Fatalf("copies %+v", b.Copies)
	}
	// Both good copies verify; the history's latest is this backup.
	if res, err := e.VerifyBackup(ctx, *b, ""); err != nil || !res.OK {
		t.Fatalf("verify: %+v %v", res, err)
	}
	if !strings.Contains(audit.actions(), "backup.finished:partial") {
		t.Fatalf("audit: %s", audit.actions())
	}
}

// A storage that vanished before the backup (a USB drive unplugged: its
// folder is gone) fails its copy, saying why and what to do, and the backup
// still goes to the storage that is there (partial); with no storage left,
// the backup fails, its copy blamed on the storage, and the missing folder
// is not created (it would fill the system disk).
func TestBackupWithAStorageGone(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 50);
		CREATE ROLE gone_reader LOGIN PASSWORD 'reader-pw-31'; GRANT SELECT ON orders TO gone_reader;`)
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "gone_reader:reader-pw-31", 1)
	nas, usb := t.TempDir(), filepath.Join(t.TempDir(), "usb")
	if err := os.Mkdir(usb, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"nas": nas, "usb": usb} {
		if _, err := e.AddStorage(ctx, store.StorageConfig{Name: name, Kind: store.StorageLocal, Local: &store.LocalStorage{Path: dir}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas", "usb"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(usb); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatalf("a backup with one of two storages gone: %v", err)
	}
	if b.Status != store.StatusSucceeded || !strings.HasPrefix(b.Error, "written to 1 of 2 storages; storage usb: the folder "+usb+" does not exist: ") {
		t.Fatalf("backup %s: %q", b.Status, b.Error)
	}
	copies := map[store.CopyStatus]int{}
	for _, c := range b.Copies {
		copies[c.Status]++
		if c.Status == store.CopyFailed && !strings.Contains(c.Error, "mount the drive") {
			t.Errorf("the failed copy does not say what to do: %+v", c)
		}
	}
	if copies[store.CopyWritten] != 1 || copies[store.CopyFailed] != 1 {
		t.Fatalf("copies %+v", b.Copies)
	}
	if res, err := e.VerifyBackup(ctx, *b, ""); err != nil || !res.OK {
		t.Fatalf("verify the copy on nas: %+v %v", res, err)
	}
	if !strings.Contains(audit.actions(), "backup.finished:partial") {
		t.Fatalf("audit: %s", audit.actions())
	}

	// Only the storage that is gone: the backup fails, blamed on it.
	if err := e.SetDatabaseStorages(ctx, "shop", []string{"usb"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil || !strings.Contains(err.Error(), "does not exist: create it, or mount the drive") {
		t.Fatalf("a backup to a storage gone: %v", err)
	}
	rows, err := e.BackupHistory(ctx, "shop", 1)
	if err != nil || len(rows) != 1 || rows[0].Status != string(store.StatusFailed) || rows[0].Blame != "storage" ||
		len(rows[0].Copies) != 1 || rows[0].Copies[0].Storage != "usb" || rows[0].Copies[0].Status != string(store.CopyFailed) {
		t.Fatalf("history %+v, %v", rows, err)
	}
	if _, err := os.Stat(usb); !os.IsNotExist(err) {
		t.Fatalf("the missing storage folder was created: %v", err)
	}
}

// A full disk fails the backup with a reason that says so, and leaves no
// file behind. It needs a small filesystem: a tmpfs, which only root can
// mount (CI runs as root).
func TestBackupDiskFull(t *testing.T) {
	dir := t.TempDir()
	testenv.FullDisk(t, dir, 2, uint32(os.Getuid()), uint32(os.Getgid()))
	e, _ := newEngine(t)
	ctx := context.Background()
	_, url := bigShop(t)
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "usb", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: dir}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"usb"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err == nil || !strings.Contains(err.Error(), "is full: free some space") {
		t.Fatalf("backup to a full disk: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	if len(left) != 0 {
		t.Fatalf("a failed backup left %v", left)
	}
	hist, _ := e.Backups(ctx, "shop", 1)
	if len(hist) != 1 || hist[0].Status != store.StatusFailed || !strings.Contains(hist[0].Error, "is full") {
		t.Fatalf("history %+v", hist)
	}
}

// One backup per database at a time; cancelling it leaves nothing and
// records it as cancelled.
func TestBackupCancelAndOneAtATime(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	_, url := bigShop(t)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	dumping := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := e.BackupNow(ctx, "shop", store.OriginManual, func(p backup.Progress) {
			if p.RawBytes > 1<<20 {
				once.Do(func() { close(dumping) })
			}
		})
		done <- err
	}()
	<-dumping
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("a second backup of the same database: %v", err)
	}
	if rs := e.RunningBackups(); len(rs) != 1 || rs[0].DatabaseName != "shop" || rs[0].Progress().RawBytes == 0 {
		t.Fatalf("running: %+v", rs)
	}
	if err := e.CancelBackup("shop"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "cancelled by the user") {
		t.Fatalf("cancelled backup: %v", err)
	}
	hist, _ := e.Backups(ctx, "shop", 1)
	if len(hist) != 1 || hist[0].Status != store.StatusCancelled {
		t.Fatalf("history %+v", hist)
	}
	if left, _ := filepath.Glob(filepath.Join(folder, "*", "*")); len(left) != 0 {
		t.Fatalf("a cancelled backup left %v", left)
	}
	if len(e.RunningBackups()) != 0 {
		t.Fatal("the cancelled backup is still listed as running")
	}
}
