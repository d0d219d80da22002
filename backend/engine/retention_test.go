package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestRetentionNeverActsOnEditedSizes (issue 12, item 3): sizes set huge in
// the settings database with SQL would make the size cap delete every backup
// but the newest. The edited rows fail to read, and retention deletes
// nothing.
func TestRetentionNeverActsOnEditedSizes(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY);
		INSERT INTO orders SELECT generate_series(1, 100);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-77'; GRANT SELECT ON orders TO reader;`)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	readerURL := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-77", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: readerURL, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetRetention(ctx, "shop", store.RetentionPolicy{MaxSizeBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	var objects []string
	for range 2 {
		b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, filepath.Join(folder, filepath.FromSlash(b.Copies[0].Object)))
	}
	if _, err := e.store.DB().Exec("UPDATE backup_copies SET size = 1 << 40"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	for _, obj := range objects {
		if _, err := os.Stat(obj); err != nil {
			t.Fatalf("retention acted on edited sizes: %v", err)
		}
	}
	_, err := e.store.Backups(ctx, store.BackupFilter{})
	if err == nil || !strings.Contains(err.Error(), "backup_copies row") || !strings.Contains(err.Error(), "modified outside PgSafe") {
		t.Fatalf("listing the history: %v", err)
	}
}
