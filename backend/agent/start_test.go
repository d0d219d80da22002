package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// The window starts the agent from the headless build beside it when there
// is one (no GTK or WebKit loaded), and the agent opens the window with the
// app beside it.
func TestPrograms(t *testing.T) {
	// Not t.TempDir: under Wine its cleanup fails to unlink the file
	// ("Invalid function"), which says nothing about PgSafe.
	dir, err := os.MkdirTemp("", "pgsafe-programs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ext := ""
	if runtime.GOOS == "windows" {
		ext = ".exe"
	}
	app := filepath.Join(dir, "pgsafe"+ext)
	if got := Program(app); got != app {
		t.Errorf("Program without a headless build = %q", got)
	}
	headless := filepath.Join(dir, "pgsafe-headless"+ext)
	if err := os.WriteFile(headless, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Program(app); got != app && runtime.GOOS != "windows" {
		t.Errorf("Program with a headless build that cannot run = %q", got)
	}
	if err := os.Chmod(headless, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Program(app); got != headless {
		t.Errorf("Program = %q, want %q", got, headless)
	}
	if got := Program(headless); got != headless {
		t.Errorf("Program(headless) = %q", got)
	}
	if got := WindowProgram(headless); got != app {
		t.Errorf("WindowProgram(headless) = %q, want %q", got, app)
	}
	if got := WindowProgram(app); got != app {
		t.Errorf("WindowProgram(app) = %q", got)
	}
	if got := WindowProgram(filepath.Join(dir, "pgsafe-headless.exe")); got != filepath.Join(dir, "pgsafe.exe") {
		t.Errorf("WindowProgram(.exe) = %q", got)
	}
	if got := Program(filepath.Join(dir, "pgsafe-dev"+ext)); got != filepath.Join(dir, "pgsafe-dev"+ext) {
		t.Errorf("Program(pgsafe-dev) = %q", got)
	}
}

// Under a systemd user service, the window opened from the tray gets a
// scope of its own, so that the agent's crash does not end it.
func TestOwnScope(t *testing.T) {
	window := []string{"/usr/bin/pgsafe", "app"}
	found := func(string) (string, error) { return "/usr/bin/systemd-run", nil }
	missing := func(string) (string, error) { return "", os.ErrNotExist }
	if got := ownScope(window, "", found); !slices.Equal(got, window) {
		t.Errorf("not a service: %q", got)
	}
	if got := ownScope(window, "abc123", missing); !slices.Equal(got, window) {
		t.Errorf("no systemd-run: %q", got)
	}
	want := []string{"/usr/bin/systemd-run", "--user", "--scope", "--quiet", "--collect", "--", "/usr/bin/pgsafe", "app"}
	if got := ownScope(window, "abc123", found); !slices.Equal(got, want) {
		t.Errorf("a service: %q, want %q", got, want)
	}
}

// The agent's log is appended to, and moved aside to agent.log.1 once it is
// past LogLimit, when an agent opens it.
func TestOpenLogRotates(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, LogName)
	write := func(s string) {
		t.Helper()
		f, err := OpenLog(home)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write("first\n")
	write("second\n")
	if b, _ := os.ReadFile(path); string(b) != "first\nsecond\n" {
		t.Fatalf("the log = %q, want both lines appended", b)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), LogLimit+1), 0o600); err != nil {
		t.Fatal(err)
	}
	write("fresh\n")
	if b, _ := os.ReadFile(path); string(b) != "fresh\n" {
		t.Errorf("after a log past the limit: %q, want a fresh log", b)
	}
	if fi, err := os.Stat(path + ".1"); err != nil || fi.Size() != LogLimit+1 {
		t.Errorf("the old log was not kept as agent.log.1: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("the log's mode: %v, %v; want 0600", fi.Mode(), err)
	}
}
