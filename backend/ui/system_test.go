package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/paths"
)

func TestAppInfo(t *testing.T) {
	home := t.TempDir()
	t.Setenv(paths.EnvHome, home)
	info := NewSystemService(NewCore(nil)).AppInfo()
	if info.Name != "PgSafe" || info.Version == "" || info.SettingsDir != home {
		t.Fatalf("AppInfo = %+v", info)
	}
	// The frontend reads these JSON names.
	b, _ := json.Marshal(info)
	for _, k := range []string{`"name"`, `"version"`, `"commit"`, `"goVersion"`, `"settingsDir"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("AppInfo JSON %s lacks %s", b, k)
		}
	}
}

// The frontend reads installs as a list, never null.
func TestClientToolsJSON(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	b, _ := json.Marshal(NewSystemService(NewCore(nil)).ClientTools())
	if !strings.Contains(string(b), `"installs":[`) || strings.Contains(string(b), `"installs":null`) {
		t.Fatalf("installs must encode as a list for the UI, got %s", b)
	}
}
