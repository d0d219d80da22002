package paths

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHomeHonoursEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custom")
	t.Setenv(EnvHome, dir)
	got, err := Home()
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Fatalf("Home() = %q, want %q", got, dir)
	}
}

func TestHomeDefaultsToUserConfigDir(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv(EnvHome, "")
	t.Setenv("XDG_CONFIG_HOME", cfg) // os.UserConfigDir on Linux
	got, err := Home()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfg, "PgSafe"); got != want {
		t.Fatalf("Home() = %q, want %q", got, want)
	}
}

func TestEnsureHomeCreates0700AndTightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	t.Setenv(EnvHome, dir)
	if _, err := EnsureHome(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Fatalf("new settings dir mode = %o, want 700", perm)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureHome(); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(dir)
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Fatalf("widened settings dir mode after EnsureHome = %o, want 700", perm)
	}
}

func TestEnsureHomeRejectsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvHome, f)
	if _, err := EnsureHome(); err == nil {
		t.Fatal("EnsureHome on a regular file succeeded, want an error")
	}
}
