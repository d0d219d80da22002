package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// Backup → verify → restore through the command line against a real WebDAV
// server (Apache mod_dav): a wrong password is refused with what to do, the
// copy is a plain file in the server's folder, and no secret is printed.
func TestRoundTripWebDAV(t *testing.T) {
	p := testenv.Postgres(t)
	loadPagila(t, p, "rental")
	srv := testenv.WebDAV(t)
	newMachine(t)
	secrets := []string{p.Password, "reader-pw-7777", srv.Password}
	exec := func(want int, stdin string, args ...string) (stdout, all string) {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out+errOut, s) {
				t.Fatalf("pgsafe %s printed a secret", strings.Join(args, " "))
			}
		}
		return out, out + errOut
	}
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		out, _ := exec(want, stdin, args...)
		return out
	}
	add := []string{"storage", "add", "webdav", "--name", "dav", "--url", srv.URL, "--user", srv.User, "--secret-stdin"}

	run(0, "", "key", "init")
	if _, out := exec(1, "wrong-"+srv.Password+"\n", add...); !strings.Contains(out, "refused the user name or password") {
		t.Fatalf("a wrong WebDAV password: %s", out)
	}
	run(0, srv.Password+"\n", add...)
	if out := run(0, "", "storage", "list"); !strings.Contains(out, "webdav") || !strings.Contains(out, srv.User+"@127.0.0.1") {
		t.Fatalf("storage list: %s", out)
	}
	run(0, "", "db", "add", "--name", "rental", "--url", roleURL(p, "rental", "reader", "reader-pw-7777"), "--storage", "dav")
	var b struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(run(0, "", "backup", "rental", "--json")), &b); err != nil || b.Status != "succeeded" {
		t.Fatalf("backup: %+v %v", b, err)
	}
	var listed []storedManifest
	if err := json.Unmarshal([]byte(run(0, "", "backups", "--storage", "dav", "--json")), &listed); err != nil || len(listed) != 1 || listed[0].Manifest.BackupID != b.ID {
		t.Fatalf("backups --storage dav: %+v %v", listed, err)
	}
	if fi, err := os.Stat(filepath.Join(srv.Root, listed[0].Manifest.Object)); err != nil || fi.Size() == 0 {
		t.Fatalf("the backup is not a file in the WebDAV folder: %v", err)
	}
	if out := run(0, "", "verify", b.ID, "--storage", "dav"); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify: %s", out)
	}
	run(0, "", "restore", "latest", "--storage", "dav", "--to", p.URL("from_webdav"))
	if want, got := schemaOf(t, p, "rental"), schemaOf(t, p, "from_webdav"); got != want {
		t.Fatalf("restored from WebDAV to another schema:\n%s", firstDiff(want, got))
	}
	// Nothing half-written stays in the folder.
	filepath.Walk(srv.Root, func(path string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), ".pgsafe-tmp-") {
			t.Errorf("left in the WebDAV folder: %s", path)
		}
		return nil
	})
}
