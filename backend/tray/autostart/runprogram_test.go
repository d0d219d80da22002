package autostart

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRunProgramPrefersTheApp: the Run value starts the GUI program beside
// the headless one (no console window at login), only when it is there.
func TestRunProgramPrefersTheApp(t *testing.T) {
	// Not t.TempDir: its RemoveAll fails under Wine 8 (scripts/test-windows.sh).
	dir, err := os.MkdirTemp("", "runprogram")
	if err != nil {
		t.Fatal(err)
	}
	headless := filepath.Join(dir, "pgsafe-headless.exe")
	app := filepath.Join(dir, "pgsafe.exe")
	t.Cleanup(func() {
		os.Remove(headless)
		os.Remove(app)
		os.Remove(dir)
	})
	if err := os.WriteFile(headless, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := runProgram(headless); got != headless {
		t.Fatalf("without the app beside it: %q, want %q", got, headless)
	}
	if err := os.WriteFile(app, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for exe, want := range map[string]string{
		headless: app,
		app:      app,
		filepath.Join(dir, "PGSAFE-HEADLESS.EXE"): filepath.Join(dir, "PGSAFE.EXE"),
		filepath.Join(dir, "pgsafe-headless"):     filepath.Join(dir, "pgsafe-headless"),
		filepath.Join(dir, "-headless.exe"):       filepath.Join(dir, "-headless.exe"),
	} {
		if want == filepath.Join(dir, "PGSAFE.EXE") {
			// Only where names are case-insensitive (Windows) is PGSAFE.EXE the app.
			if _, err := os.Stat(want); err != nil {
				want = exe
			}
		}
		if got := runProgram(exe); got != want {
			t.Errorf("runProgram(%q) = %q, want %q", exe, got, want)
		}
	}
	// A Windows path on any OS: split at the backslash, not found here.
	if got := runProgram(`C:\Users\a b\AppData\Local\Programs\PgSafe\pgsafe-headless.exe`); got != `C:\Users\a b\AppData\Local\Programs\PgSafe\pgsafe-headless.exe` {
		t.Errorf("a missing app: %q", got)
	}
}
