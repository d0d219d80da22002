package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// A settings database replaced by an older copy is refused by every command
// with a message that says what happened and what to do; `settings accept
// --yes` is the way out when the user restored it on purpose.
func TestOlderSettingsRefusedThenAccepted(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvKeyFile, keyFile)
	path := filepath.Join(home, store.FileName)
	add := func(name string) {
		t.Helper()
		code, out, errOut := runIn(t, "", "storage", "add", "local", "--name", name, "--path", t.TempDir())
		if code != 0 {
			t.Fatalf("storage add: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	add("one")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	add("two")
	for _, p := range []string{path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runIn(t, "", "storage", "list")
	if code == 0 || !strings.Contains(errOut, "modified outside PgSafe") || !strings.Contains(errOut, "pgsafe settings accept") {
		t.Fatalf("an older settings file: exit %d, stderr %s", code, errOut)
	}
	if code, _, _ := runIn(t, "", "settings", "accept"); code == 0 {
		t.Fatal("accept without --yes succeeded")
	}
	if code, out, errOut := runIn(t, "", "settings", "accept", "--yes"); code != 0 || !strings.Contains(out, "accepted") {
		t.Fatalf("settings accept --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runIn(t, "", "storage", "list")
	if code != 0 || !strings.Contains(out, "one") || strings.Contains(out, "two") {
		t.Fatalf("after accepting: exit %d\n%s\n%s", code, out, errOut)
	}
	s, err := store.Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("UPDATE storages SET updated_at = 0"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A row edited with SQL: `settings check` names it, exit 4; it is
	// configuration, so --forget-damaged leaves it; accept binds it.
	for _, args := range [][]string{{"settings", "check"}, {"settings", "check", "--forget-damaged"}} {
		code, out, errOut = runIn(t, "", args...)
		if code != 4 || !strings.Contains(out, "modified outside PgSafe: storages row 1") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if code, out, errOut := runIn(t, "", "settings", "accept", "--yes"); code != 0 {
		t.Fatalf("settings accept --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runIn(t, "", "settings", "check"); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("settings check after accept: exit %d\n%s\n%s", code, out, errOut)
	}
}
