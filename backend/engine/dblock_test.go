package engine

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// A backup of a database is refused while another engine (standing for
// another process: the lock is per open file, as between processes) backs it
// up; other databases back up meanwhile; opening an engine leaves the
// running backup alone.
func TestBackupLockAcrossEngines(t *testing.T) {
	e1, _ := newEngine(t)
	ctx := context.Background()
	srv, url := bigShop(t)
	srv.CreateDB(t, "small")
	srv.Exec(t, "small", `CREATE TABLE t AS SELECT 1 AS id; GRANT SELECT ON t TO reader`)
	folder := t.TempDir()
	if _, err := e1.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.AddDatabase(ctx, DatabaseInput{Name: "small", URL: strings.Replace(url, "/shop", "/small", 1), StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	// The backup of shop holds in its progress callback until the checks
	// are done: it is surely running meanwhile.
	dumping, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := e1.BackupNow(ctx, "shop", store.OriginManual, func(p backup.Progress) {
			if p.RawBytes > 1<<20 {
				once.Do(func() { close(dumping); <-resume })
			}
		})
		done <- err
	}()
	select {
	case <-dumping:
	case err := <-done:
		t.Fatalf("the backup ended before it was interrupted: %v", err)
	}
	running := e1.RunningBackups()[0].BackupID

	e2, err := Open(ctx, Options{Home: e1.Home()})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if b, err := e2.store.Backup(ctx, running); err != nil || b.Status != store.StatusRunning {
		t.Fatalf("opening a second engine changed the running backup: %+v, %v", b, err)
	}
	_, err = e2.BackupNow(ctx, "shop", store.OriginManual, nil)
	want := "a backup of shop is already running in another PgSafe process (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("a second backup of shop from another engine: %v; want %q", err, want)
	}
	if b, err := e2.BackupNow(ctx, "small", store.OriginManual, nil); err != nil || b.Status != store.StatusSucceeded {
		t.Fatalf("a backup of another database meanwhile: %+v, %v", b, err)
	}
	if err := e1.CancelBackup("shop"); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err == nil {
		t.Fatal("the cancelled backup succeeded")
	}
	d, _, _ := e1.database(ctx, "shop")
	lock, _, err := tryLockDatabase(e1.Home(), d.ID, lockHolder{PID: os.Getpid()})
	if err != nil || lock == nil {
		t.Fatalf("the lock of shop is still held after its backup ended: %v", err)
	}
	lock.release()
}

// A backup whose process was killed is recorded as interrupted at the next
// engine open, and what it left (a temporary file in the storage, a passfile
// of an older PgSafe) is removed; a backup another process runs now, and its
// temporary file, are left alone until that process is gone.
func TestInterruptedBackupRecovered(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := bigShopless(t)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: srv, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	d, c, err := e.database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	home := e.Home()
	// Two backups left "running", as a killed process leaves them, each
	// with a temporary file in the storage.
	newRun := func() (string, string) {
		id, err := format.NewBackupID()
		if err != nil {
			t.Fatal(err)
		}
		rec := store.Backup{ID: id.String(), DatabaseID: d.ID, Status: store.StatusRunning, Origin: store.OriginManual,
			StartedAt: time.Now().UTC(), KeyID: e.KeyID().String(), BackupDetails: store.BackupDetails{DatabaseName: "shop"}}
		if err := e.store.CreateBackup(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetBackupCopy(ctx, rec.ID, store.BackupCopy{StorageID: c.StorageIDs[0], Status: store.CopyWriting}); err != nil {
			t.Fatal(err)
		}
		object := backup.ObjectName("", strconv.FormatInt(d.ID, 10), id)
		tmp := filepath.Join(folder, filepath.FromSlash(filepath.Dir(object)), ".pgsafe-tmp-"+filepath.Base(object)+"~123")
		os.MkdirAll(filepath.Dir(tmp), 0o700)
		if err := os.WriteFile(tmp, make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
		return rec.ID, tmp
	}
	killed, killedTmp := newRun()
	live, liveTmp := newRun()
	e.Close()

	// The process of "live" still runs (it holds the database's lock).
	holder, _, err := tryLockDatabase(home, d.ID, lockHolder{PID: os.Getpid(), BackupID: live})
	if err != nil || holder == nil {
		t.Fatal("could not take the lock", err)
	}
	// An older PgSafe's passfile, left by a killed process.
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	passDir := filepath.Join(tmpdir, "pgsafe-pass-"+strconv.Itoa(dead.Process.Pid)+"-1")
	os.MkdirAll(passDir, 0o700)
	os.WriteFile(filepath.Join(passDir, "pgpass"), []byte("*:*:*:*:secret\n"), 0o600)

	reopen := func() *Engine {
		t.Helper()
		e, err := Open(ctx, Options{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		e.Wait() // the sweep of the storages runs in the background
		return e
	}
	e2 := reopen()
	b, err := e2.store.Backup(ctx, killed)
	if err != nil || b.Status != store.StatusFailed || b.Error != store.InterruptedError || b.FinishedAt.IsZero() ||
		len(b.Copies) != 1 || b.Copies[0].Status != store.CopyFailed {
		t.Fatalf("the killed backup after the next open: %+v, %v", b, err)
	}
	if b, err := e2.store.Backup(ctx, live); err != nil || b.Status != store.StatusRunning {
		t.Fatalf("the backup running in another process was changed: %+v, %v", b, err)
	}
	if _, err := os.Stat(killedTmp); !os.IsNotExist(err) {
		t.Fatalf("the killed backup's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(liveTmp); err != nil {
		t.Fatalf("the running backup's temporary file was removed: %v", err)
	}
	if _, err := os.Stat(passDir); !os.IsNotExist(err) {
		t.Fatalf("the dead process's passfile is still there: %v", err)
	}
	recs, err := e2.Audit().List(ctx, audit.Filter{ActionPrefix: "backup.failed"})
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Message, "interrupted") {
		t.Fatalf("audit of the interrupted backup: %+v, %v", recs, err)
	}
	e2.Close()

	// Its process ends too: the next open records it and sweeps its file.
	holder.release()
	e3 := reopen()
	defer e3.Close()
	if b, err := e3.store.Backup(ctx, live); err != nil || b.Status != store.StatusFailed || b.Error != store.InterruptedError {
		t.Fatalf("the second backup after its process ended: %+v, %v", b, err)
	}
	if _, err := os.Stat(liveTmp); !os.IsNotExist(err) {
		t.Fatalf("its temporary file is still there: %v", err)
	}
}

// bigShopless is a small database's URL (a reader role with a password).
func bigShopless(t *testing.T) string {
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int); CREATE ROLE reader LOGIN PASSWORD 'reader-pw-7'; GRANT SELECT ON orders TO reader;`)
	return strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-7", 1)
}
