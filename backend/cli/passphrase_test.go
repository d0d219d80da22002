package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A recovery kit's passphrase must be hard to guess, not just 12
// characters long; --generate-passphrase makes one, prints it once, and the
// kit opens with it on another machine.
func TestKeyExportPassphrases(t *testing.T) {
	dir := t.TempDir()
	newMachine(t)
	if code, _, errOut := runIn(t, "", "key", "init"); code != 0 {
		t.Fatalf("key init: %s", errOut)
	}
	_, id, _ := runIn(t, "", "key", "id")
	id = strings.TrimSpace(id)

	weak := filepath.Join(dir, "weak.pgsafe-key")
	code, _, errOut := runIn(t, "aaaaaaaaaaaa\n", "key", "export", "--out", weak, "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, "repeats") || !strings.Contains(errOut, "--generate-passphrase") || strings.Contains(errOut, "aaaaaaaaaaaa") {
		t.Fatalf("export with a weak passphrase: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(weak); err == nil {
		t.Fatal("a kit was written with a weak passphrase")
	}
	if code, _, errOut := runIn(t, "x\n", "key", "export", "--out", weak, "--passphrase-stdin", "--generate-passphrase"); code != 1 || !strings.Contains(errOut, "not both") {
		t.Fatalf("--generate-passphrase with --passphrase-stdin: exit %d, %q", code, errOut)
	}

	kit := filepath.Join(dir, "kit.pgsafe-key")
	code, out, errOut := runIn(t, "", "key", "export", "--out", kit, "--generate-passphrase")
	m := regexp.MustCompile(`shown this once.*\n  ([a-z-]+(?: [a-z-]+){5})\n$`).FindStringSubmatch(errOut)
	if code != 0 || m == nil || strings.Contains(out, m[1]) {
		t.Fatalf("export --generate-passphrase: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	generated := m[1]

	newMachine(t)
	if code, _, errOut := runIn(t, generated+"\n", "key", "import", kit, "--passphrase-stdin"); code != 0 {
		t.Fatalf("import with the generated passphrase: %s", errOut)
	}
	if _, got, _ := runIn(t, "", "key", "id"); !strings.HasPrefix(got, id) {
		t.Fatalf("imported key %s, exported %s", got, id)
	}
}
