package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// TestDBAddListRemove runs the stored-database commands against a real
// cluster, a real keychain and a fresh settings directory, and then looks
// for the passwords in every output and in the settings files.
func TestDBAddListRemove(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-7781'; GRANT SELECT ON items TO reader;`)
	testenv.Keychain(t)
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(home, "..", "key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvKeyFile, keyFile)

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
	readerURL := roleURL(p, "shop", "reader", "reader-pw-7781")
	run(0, "db", "add", "--name", "shop", "--url", readerURL)
	_, errOut := run(3, "db", "add", "--name", "shop-admin", "--url", p.URL("shop"))
	if !strings.Contains(errOut, "can change data") {
		t.Errorf("write access refusal: %s", errOut)
	}
	run(0, "db", "add", "--name", "shop-admin", "--url", p.URL("shop"), "--allow-write-access")
	out, _ := run(0, "db", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("db list --json: %v\n%s", err, out)
	}
	out, _ = run(0, "db", "list")
	if !strings.Contains(out, "reader@127.0.0.1") || !strings.Contains(out, "set") {
		t.Errorf("db list: %s", out)
	}
	out, _ = run(0, "db", "check", "shop", "--json")
	if !strings.Contains(out, `"verdict": "read_only`) {
		t.Errorf("db check shop: %s", out)
	}
	// A time limit per backup (issue 12, item 8): set, refused when too short, cleared.
	out, _ = run(0, "db", "set", "shop", "--timeout", "2h")
	if !strings.Contains(out, "longer than 2h0m0s is stopped") {
		t.Errorf("db set --timeout 2h: %s", out)
	}
	if _, errOut := run(1, "db", "set", "shop", "--timeout", "10s"); !strings.Contains(errOut, "would stop every backup") {
		t.Errorf("db set --timeout 10s: %s", errOut)
	}
	if out, _ := run(0, "audit", "export", "--format", "json"); !strings.Contains(out, `"timeout": "2h0m0s"`) && !strings.Contains(out, `"timeout":"2h0m0s"`) {
		t.Errorf("the time limit's change is not in the audit log: %s", out)
	}
	out, _ = run(0, "db", "set", "shop", "--timeout", "0")
	if !strings.Contains(out, "no time limit") {
		t.Errorf("db set --timeout 0: %s", out)
	}
	// A new password from stdin: the wrong one changes nothing, the right
	// one is stored; a rename and the row-count switch are audited by name.
	p.Exec(t, "shop", `ALTER ROLE reader PASSWORD 'reader-pw-new-9902'`)
	if code, out, errOut := runIn(t, "wrong-pw-1\n", "db", "set", "shop", "--password-stdin"); code != 1 || !strings.Contains(errOut, "password authentication failed") {
		t.Fatalf("a wrong password: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runIn(t, "reader-pw-new-9902\n", "db", "set", "shop", "--password-stdin")
	outs = append(outs, out, errOut)
	if code != 0 || !strings.Contains(out, "shop: changed password (connection tested; role read-only") {
		t.Fatalf("the right password: exit %d\n%s\n%s", code, out, errOut)
	}
	run(0, "db", "check", "shop")
	out, _ = run(0, "db", "set", "shop", "--rename", "Shop main", "--row-counts=false")
	if !strings.Contains(out, "Shop main: changed name, count_rows") {
		t.Errorf("db set --rename: %s", out)
	}
	_, errOut = run(3, "db", "set", "Shop main", "--url", p.URL("shop"))
	if !strings.Contains(errOut, "can change data") {
		t.Errorf("a superuser URL without --allow-write-access: %s", errOut)
	}
	if _, errOut := run(1, "db", "set", "Shop main"); !strings.Contains(errOut, "give what to change") {
		t.Errorf("db set without changes: %s", errOut)
	}
	if out, _ := run(0, "audit", "export", "--format", "json"); !strings.Contains(out, `"renamed_from": "shop"`) || !strings.Contains(out, `"fields": "password"`) {
		t.Errorf("the edits are not in the audit log: %s", out)
	}
	run(3, "db", "check", "shop-admin")
	run(0, "db", "remove", "shop-admin")
	_, errOut = run(1, "db", "remove", "shop-admin")
	if !strings.Contains(errOut, `no database named "shop-admin"`) || !strings.Contains(errOut, "pgsafe db list") {
		t.Errorf("removing twice: %s", errOut)
	}

	files, _ := filepath.Glob(filepath.Join(home, "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		outs = append(outs, string(data))
	}
	for _, o := range outs {
		for _, secret := range []string{"reader-pw-7781", p.Password} {
			if strings.Contains(o, secret) {
				t.Fatalf("a password appears in output or settings files")
			}
		}
	}
}
