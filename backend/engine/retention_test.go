package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/store"
)

// TestRetentionNeverActsOnEditedSizes (issue 12, item 3): sizes set huge in
// the settings database with SQL would make the size cap delete every backup
// but the newest. The edited rows fail to read, and retention deletes
// nothing.
func TestRetentionNeverActsOnEditedSizes(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	_, folder, _ := shopOnNAS(t, e, 100)
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
