package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/pgtools"
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

func TestSummarizeToolsNoneFound(t *testing.T) {
	ct := summarizeTools(nil)
	if ct.Advice == "" || ct.Newest != 0 {
		t.Fatalf("no installs but advice %q newest %d", ct.Advice, ct.Newest)
	}
	b, _ := json.Marshal(ct)
	if !strings.Contains(string(b), `"installs":[]`) {
		t.Fatalf("installs must encode as [] for the UI, got %s", b)
	}
}

func TestSummarizeToolsNewest(t *testing.T) {
	ct := summarizeTools([]pgtools.Install{{Version: pgtools.Version{Major: 17}}, {Version: pgtools.Version{Major: 15}}})
	if ct.Newest != 17 || ct.Advice != "" {
		t.Fatalf("summary = %+v, want newest 17 and no advice", ct)
	}
}
