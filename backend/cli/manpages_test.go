package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManPages(t *testing.T) {
	date := time.Date(2026, 3, 14, 23, 59, 0, 0, time.FixedZone("late", 5*3600))
	a, b := t.TempDir(), t.TempDir()
	if err := ManPages(a, date); err != nil {
		t.Fatal(err)
	}
	if err := ManPages(b, date); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs (err %v)", e.Name(), err)
		}
		if bytes.Contains(x, []byte("Auto generated")) {
			t.Errorf("%s carries cobra's auto-generated history", e.Name())
		}
	}
	for _, want := range []string{"pgsafe.1", "pgsafe-backup.1", "pgsafe-key-init.1", "pgsafe-version.1"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
	if names["pgsafe-completion.1"] || names["pgsafe-help.1"] {
		t.Errorf("hidden commands got pages: %v", names)
	}
	root, err := os.ReadFile(filepath.Join(a, "pgsafe.1"))
	if err != nil {
		t.Fatal(err)
	}
	// The date is the UTC day of the time given (14 Mar 18:59 UTC), whatever the zone.
	if !strings.Contains(string(root), `.TH "PGSAFE" "1" "Mar 2026" "PgSafe `) {
		t.Errorf("pgsafe.1's title line is not dated Mar 2026:\n%s", root[:min(len(root), 200)])
	}
}
