package cli

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestIsCommand(t *testing.T) {
	cases := map[string]bool{
		"":                      false,
		"app":                   false,
		"-assetdir":             false, // Wails dev build flags
		"-devserver":            false,
		"version":               true,
		"--version":             true,
		"--help":                true,
		"key":                   true,
		"definitely-not-a-verb": true, // reaches the CLI, which reports it
	}
	for a, want := range cases {
		var args []string
		if a != "" {
			args = []string{a}
		}
		if got := IsCommand(args); got != want {
			t.Errorf("IsCommand(%q) = %v, want %v", a, got, want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := run(t, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"PgSafe", buildinfo.Version, runtime.Version()} {
		if !strings.Contains(out, want) {
			t.Errorf("version output %q lacks %q", out, want)
		}
	}
	code, out2, _ := run(t, "--version")
	if code != 0 || out2 != out {
		t.Errorf("--version = %q (exit %d), want %q", out2, code, out)
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := run(t, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var bi buildinfo.Info
	if err := json.Unmarshal([]byte(out), &bi); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if bi.Name != "PgSafe" || bi.GoVersion != runtime.Version() {
		t.Fatalf("decoded %+v", bi)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	code, out, errOut := run(t, "frobnicate")
	if code == 0 {
		t.Fatal("unknown command exited 0")
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	if !strings.HasPrefix(errOut, "pgsafe: ") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("stderr %q, want one line starting with 'pgsafe: '", errOut)
	}
}

func TestHelpListsVersion(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "version") {
		t.Fatalf("help exit %d:\n%s", code, out)
	}
}
