package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnableDisable(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	path := filepath.Join(cfg, "autostart", "pgsafe.desktop")
	if f, err := File(); err != nil || f != path {
		t.Fatalf("File() = %q, %v; want %q", f, err, path)
	}
	if on, err := Enabled(); on || err != nil {
		t.Fatalf("Enabled before Enable = %v, %v", on, err)
	}
	if err := Enable([]string{"/opt/Pg Safe/pgsafe", "agent", "--login"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"[Desktop Entry]", "Type=Application", "Name=PgSafe",
		`Exec="/opt/Pg Safe/pgsafe" agent --login`, "X-GNOME-Autostart-enabled=true"} {
		if !strings.Contains(string(b), line+"\n") {
			t.Errorf("entry lacks %q:\n%s", line, b)
		}
	}
	if on, err := Enabled(); !on || err != nil {
		t.Fatalf("Enabled after Enable = %v, %v", on, err)
	}
	// A desktop's settings may switch it off with Hidden=true.
	if err := os.WriteFile(path, append(b, "Hidden=true\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(); on {
		t.Errorf("Enabled with Hidden=true = true")
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("entry still there after Disable: %v", err)
	}
	if err := Disable(); err != nil {
		t.Errorf("Disable with nothing to remove: %v", err)
	}
}

func TestExecArg(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/pgsafe":     "/usr/bin/pgsafe",
		"--hidden":            "--hidden",
		"/home/a b/pgsafe":    `"/home/a b/pgsafe"`,
		`/x/$HOME/p`:          `"/x/\\$HOME/p"`, // the spec's own example: "\\$"
		`/x/back\slash`:       `"/x/back\\\\slash"`,
		`/x/"q"`:              `"/x/\\"q\\""`,
		"/x/100%":             "/x/100%%",
		"":                    `""`,
		"/tmp/it's/pgsafe":    `"/tmp/it's/pgsafe"`,
		"/tmp/back`tick`/bin": "\"/tmp/back\\\\`tick\\\\`/bin\"",
	} {
		if got := execArg(in); got != want {
			t.Errorf("execArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCommand(t *testing.T) {
	t.Setenv("APPIMAGE", "")
	cmd, err := Command()
	exe, _ := os.Executable()
	if err != nil || len(cmd) != 3 || cmd[0] != exe || cmd[1] != "agent" || cmd[2] != "--login" {
		t.Fatalf("Command() = %q, %v", cmd, err)
	}
	t.Setenv("APPIMAGE", "/home/u/PgSafe.AppImage")
	if cmd, _ := Command(); cmd[0] != "/home/u/PgSafe.AppImage" {
		t.Errorf("Command() from an AppImage = %q", cmd)
	}
}
