package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/store"
)

// TestNamedFileIsWhatIsRead (issue 12, item 1): verifying or restoring
// FILE.pgsafe reads that file, even when its backup is in the history: a cut
// copy of a backup whose storage copy is fine fails, and a good copy of a
// backup that retention pruned from its storage verifies and restores.
func TestNamedFileIsWhatIsRead(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv, folder, _ := shopOnNAS(t, e, 700)
	first, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(folder, filepath.FromSlash(first.Copies[0].Object))
	good := filepath.Join(t.TempDir(), "good.pgsafe")
	copyFile(t, stored, good)

	t.Run("a cut copy fails though the storage's is fine", func(t *testing.T) {
		cut := filepath.Join(t.TempDir(), "cut.pgsafe")
		copyFile(t, stored, cut)
		fi, err := os.Stat(cut)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(cut, fi.Size()-1); err != nil {
			t.Fatal(err)
		}
		b, err := e.ImportFile(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		if b.ID != first.ID || b.File != cut {
			t.Fatalf("ImportFile = backup %s read from %q; want %s from %s", b.ID, b.File, first.ID, cut)
		}
		res, err := e.VerifyBackup(ctx, b, "")
		if err == nil && res.OK {
			t.Fatal("verify of a file cut by one byte said OK")
		}
		if _, err := e.RestoreBackup(ctx, b, RestoreTarget{URL: srv.URL("shop_from_cut")}, RestoreOptions{NoOwner: true}); err == nil {
			t.Fatal("a restore from a file cut by one byte succeeded")
		}
		// The history's own copy is untouched and still good.
		if res, err := e.VerifyBackup(ctx, *first, ""); err != nil || !res.OK {
			t.Fatalf("verify of the stored copy = %+v, %v", res, err)
		}
	})

	t.Run("a garbage manifest beside a good file is blamed, not the file", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, stored, filepath.Join(dir, "x.pgsafe"))
		if err := os.WriteFile(filepath.Join(dir, "x.manifest.pgsafe"), []byte("not a manifest"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := openSecond(t).ImportFile(ctx, filepath.Join(dir, "x.pgsafe"))
		if err == nil || !strings.Contains(err.Error(), "the manifest beside it, x.manifest.pgsafe, cannot be read") {
			t.Fatalf("import with a garbage manifest: %v", err)
		}
	})

	t.Run("an empty storage lists no backups, not null", func(t *testing.T) {
		if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "empty", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
			t.Fatal(err)
		}
		list, err := e.StorageBackups(ctx, "empty")
		if err != nil || list == nil || len(list) != 0 {
			t.Fatalf("StorageBackups(empty) = %#v, %v", list, err)
		}
	})

	t.Run("a good copy of a pruned backup restores", func(t *testing.T) {
		if err := e.SetRetention(ctx, "shop", store.RetentionPolicy{KeepLast: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stored); !os.IsNotExist(err) {
			t.Fatalf("retention kept the first backup's object: %v", err)
		}
		was, err := e.store.Backup(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if was.Shown() != store.StatusPruned {
			t.Fatalf("a backup retention deleted from every storage shows as %q, want pruned", was.Shown())
		}
		if _, err := e.VerifyBackup(ctx, was, ""); err == nil {
			t.Fatal("the pruned backup verified from the history with no copy left")
		}
		b, err := e.ImportFile(ctx, good)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.VerifyBackup(ctx, b, "")
		if err != nil || !res.OK {
			t.Fatalf("verify a good copy of a pruned backup = %+v, %v", res, err)
		}
		// Only the .pgsafe file was copied: its roles file stayed behind.
		if !slices.Contains(res.Warnings, "saved without the server's roles: the roles file good.globals.pgsafe is not beside good.pgsafe") {
			t.Fatalf("verify of a file without its roles file beside it warned %q", res.Warnings)
		}
		if _, err := e.RestoreBackup(ctx, b, RestoreTarget{URL: srv.URL("shop_from_good")}, RestoreOptions{NoOwner: true}); err != nil {
			t.Fatal(err)
		}
		if n := countOrders(t, srv, "shop_from_good"); n != 700 {
			t.Fatalf("restored %d orders, want 700", n)
		}
	})
}
