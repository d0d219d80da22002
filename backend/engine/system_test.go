package engine

import (
	"testing"

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
