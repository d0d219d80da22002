package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

func TestSummarizeToolsNoneFound(t *testing.T) {
	ct := summarizeTools(nil)
	if ct.Advice == "" || ct.Newest != 0 || ct.Installs == nil {
		t.Fatalf("no installs but advice %q newest %d installs %#v", ct.Advice, ct.Newest, ct.Installs)
	}
}

func TestSummarizeToolsNewest(t *testing.T) {
	ct := summarizeTools([]pgtools.Install{{Version: pgtools.Version{Major: 17}}, {Version: pgtools.Version{Major: 15}}})
	if ct.Newest != 17 || ct.Advice != "" {
		t.Fatalf("summary = %+v, want newest 17 and no advice", ct)
	}
}

func TestSettingsDirAndBuildInfo(t *testing.T) {
	home := t.TempDir()
	t.Setenv(paths.EnvHome, home)
	if dir, err := SettingsDir(); err != nil || dir != home {
		t.Fatalf("settings dir %q, %v; want %q", dir, err, home)
	}
	if bi := BuildInfo(); bi.Name != "PgSafe" || bi.Version == "" {
		t.Fatalf("build info %+v", bi)
	}
}

func TestEnsureSettingsDir(t *testing.T) {
	home := filepath.Join(t.TempDir(), "new", "home")
	t.Setenv(paths.EnvHome, home)
	dir, err := EnsureSettingsDir()
	if err != nil || dir != home {
		t.Fatalf("settings dir %q, %v; want %q", dir, err, home)
	}
	if fi, err := os.Stat(home); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created %v, %v; want a 0700 folder", fi, err)
	}
}

// A key of the user's own comes from the face's option or PGSAFE_KEY_FILE.
func TestKeyFileChosen(t *testing.T) {
	t.Setenv(keys.EnvKeyFile, "")
	if KeyFileChosen("") {
		t.Fatal("no option, no PGSAFE_KEY_FILE: this machine's key, yet a key file is chosen")
	}
	if !KeyFileChosen("/keys/kit.txt") {
		t.Fatal("--key-file is not a chosen key")
	}
	t.Setenv(keys.EnvKeyFile, "/keys/master.key")
	if !KeyFileChosen("") {
		t.Fatal("PGSAFE_KEY_FILE is not a chosen key")
	}
}
