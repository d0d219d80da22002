package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Issue 12, item 4: a settings database emptied to 0 bytes is said to be, is
// kept aside, and the way out is named; then PgSafe goes on with empty
// settings, where the storage added again is what brings the backups back.
func TestDamagedSettingsDatabase(t *testing.T) {
	home := newMachine(t)
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvKeyFile, keyFile)
	folder := t.TempDir()
	if code, out, errOut := run(t, "storage", "add", "local", "--name", "nas", "--path", folder); code != 0 {
		t.Fatalf("storage add: exit %d\n%s%s", code, out, errOut)
	}
	db := filepath.Join(home, store.FileName)
	if err := os.Truncate(db, 0); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "storage", "list")
	if code == 0 {
		t.Fatal("storage list on an emptied settings database succeeded")
	}
	for _, want := range []string{"is empty (0 bytes)", "moved to " + filepath.Join(home, "damaged-"), "safe in their storages", "pgsafe backups --storage NAME"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(home, "damaged-*", store.FileName))
	if len(kept) != 1 {
		t.Fatalf("the emptied database was not kept aside: %v", kept)
	}
	code, out, errOut := run(t, "storage", "list")
	if code != 0 || strings.Contains(out, "nas") {
		t.Fatalf("after setting it aside: exit %d\n%s%s", code, out, errOut)
	}
}
