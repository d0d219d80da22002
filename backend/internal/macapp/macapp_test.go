package macapp

import (
	"os"
	"path/filepath"
	"testing"
)

// bundle makes X.app under dir with the given executables (paths relative
// to the bundle) and returns the bundle's path.
func bundle(t *testing.T, dir, name string, exes ...string) string {
	t.Helper()
	app := filepath.Join(dir, name)
	for _, e := range exes {
		p := filepath.Join(app, filepath.FromSlash(e))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

func TestAgentAndWindowInTheBundle(t *testing.T) {
	dir := t.TempDir()
	app := bundle(t, dir, "PgSafe copy.app", WindowPath, AgentPath)
	window := filepath.Join(app, "Contents", "MacOS", "pgsafe")
	agent := filepath.Join(app, "Contents", "Library", "LoginItems", "PgSafe Agent.app", "Contents", "MacOS", "pgsafe-headless")

	if got, ok := AgentFor(window); !ok || got != agent {
		t.Errorf("AgentFor(window) = %q, %v; want %q", got, ok, agent)
	}
	if got, ok := AgentFor(agent); !ok || got != agent {
		t.Errorf("AgentFor(agent) = %q, %v; want itself", got, ok)
	}
	if got, ok := WindowFor(agent); !ok || got != window {
		t.Errorf("WindowFor(agent) = %q, %v; want %q", got, ok, window)
	}
	if _, ok := WindowFor(window); ok {
		t.Error("WindowFor(window) found a window: only the agent's executable has one")
	}

	// A link on the PATH to the window's executable.
	link := filepath.Join(dir, "pgsafe")
	if err := os.Symlink(window, link); err != nil {
		t.Fatal(err)
	}
	if got, ok := AgentFor(link); !ok || got != agent {
		t.Errorf("AgentFor(link to the window) = %q, %v; want %q", got, ok, agent)
	}
}

func TestNotInABundle(t *testing.T) {
	dir := t.TempDir()
	// A bundle without the agent helper (as `wails build` makes one).
	app := bundle(t, dir, "PgSafe.app", WindowPath)
	if got, ok := AgentFor(filepath.Join(app, filepath.FromSlash(WindowPath))); ok {
		t.Errorf("AgentFor found %q in a bundle with no agent helper", got)
	}
	// An agent helper whose window is gone.
	app = bundle(t, dir, "Half.app", AgentPath)
	if got, ok := WindowFor(filepath.Join(app, filepath.FromSlash(AgentPath))); ok {
		t.Errorf("WindowFor found %q in a bundle with no window", got)
	}
	// Linux and Windows installs, a build directory.
	for _, exe := range []string{"/usr/bin/pgsafe", "/usr/bin/pgsafe-headless", filepath.Join(dir, "build", "bin", "pgsafe"),
		"/Applications/Contents/MacOS/pgsafe" /* no .app */} {
		if got, ok := AgentFor(exe); ok {
			t.Errorf("AgentFor(%q) = %q: not in a bundle", exe, got)
		}
		if got, ok := WindowFor(exe); ok {
			t.Errorf("WindowFor(%q) = %q: not in a bundle", exe, got)
		}
	}
}
