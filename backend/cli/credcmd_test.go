package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// db add --url-command and --password-command, db set between them, db
// list and a backup: the command line and what it prints are in no output
// and no settings file.
func TestDBCredentialsCommands(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-cli-42'; GRANT SELECT ON items TO reader;`)
	testenv.Keychain(t)
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvKeyFile, keyFile)
	scripts := t.TempDir()
	urlFile, pwFile := filepath.Join(scripts, "url"), filepath.Join(scripts, "pw")
	os.WriteFile(urlFile, []byte(roleURL(p, "shop", "reader", "reader-pw-cli-42")), 0o600)
	os.WriteFile(pwFile, []byte("reader-pw-cli-42\n"), 0o600)
	folder := t.TempDir()

	var outs []string
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		outs = append(outs, out, errOut)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	run(0, "storage", "add", "local", "--name", "nas", "--path", folder)
	urlCmd := "cat " + urlFile
	run(0, "db", "add", "--name", "shop", "--url-command", urlCmd, "--storage", "nas")
	out, _ := run(0, "db", "list")
	if !strings.Contains(out, "from command") || strings.Contains(out, "reader@") {
		t.Fatalf("db list: %s", out)
	}
	out, _ = run(0, "backup", "shop")
	if !strings.Contains(out, "shop") {
		t.Fatalf("backup: %s", out)
	}
	// The password from a command, the rest from the URL.
	bare := strings.Replace(roleURL(p, "shop", "reader", "x"), "reader:x@", "reader@", 1)
	out, _ = run(0, "db", "set", "shop", "--url", bare, "--password-command", "cat "+pwFile)
	if !strings.Contains(out, "url_command") || !strings.Contains(out, "password_command") {
		t.Fatalf("db set: %s", out)
	}
	out, _ = run(0, "db", "list")
	if !strings.Contains(out, "reader@127.0.0.1") || !strings.Contains(out, "from command") {
		t.Fatalf("db list: %s", out)
	}
	run(0, "backup", "shop")
	// A command that fails: its own words, exit 1.
	_, errOut := run(1, "db", "add", "--name", "broken", "--url-command", "sh -c 'echo denied-by-vault >&2; exit 3'")
	if !strings.Contains(errOut, "the credentials command exited 3: denied-by-vault") {
		t.Fatalf("a failing command: %s", errOut)
	}
	_, errOut = run(1, "db", "add", "--name", "piped", "--url-command", "cat "+urlFile+" | head -1")
	if !strings.Contains(errOut, `uses the shell's "|"`) || strings.Contains(errOut, urlFile) {
		t.Fatalf("a pipe without a shell: %s", errOut)
	}
	_, errOut = run(1, "db", "add", "--name", "both", "--url", bare, "--url-command", urlCmd)
	if !strings.Contains(errOut, "either --url") {
		t.Fatalf("both: %s", errOut)
	}

	for _, o := range outs {
		for _, s := range []string{"reader-pw-cli-42", urlFile, pwFile} {
			if strings.Contains(o, s) {
				t.Fatalf("an output holds %q:\n%s", s, o)
			}
		}
	}
	filepath.Walk(home, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, s := range []string{"reader-pw-cli-42", urlFile, pwFile} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
}
