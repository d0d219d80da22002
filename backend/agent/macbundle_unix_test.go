//go:build !windows

package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
)

// In the macOS app bundle the window starts the agent helper app's
// executable (not a pgsafe-headless beside it), and the agent opens the
// window app around it. The layout is plain paths, so this runs anywhere.
func TestProgramsInTheMacBundle(t *testing.T) {
	app := filepath.Join(t.TempDir(), "PgSafe.app")
	window := filepath.Join(app, filepath.FromSlash(macapp.WindowPath))
	helper := filepath.Join(app, filepath.FromSlash(macapp.AgentPath))
	for _, p := range []string{window, helper} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := Program(window); got != helper {
		t.Errorf("Program(window) = %q, want the agent helper %q", got, helper)
	}
	if got := Program(helper); got != helper {
		t.Errorf("Program(helper) = %q, want itself", got)
	}
	if got := WindowProgram(helper); got != window {
		t.Errorf("WindowProgram(helper) = %q, want %q", got, window)
	}
}
