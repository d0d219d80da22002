package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// `storage add webdav` refuses an http:// address of another machine (the
// password would travel unencrypted) unless --allow-http, before asking
// for or reading the password; this machine needs no flag. 0.0.0.0 reaches
// the test's Apache on 127.0.0.1 but is not a loopback address: it plays a
// server on the LAN.
func TestStorageAddWebDAVPlainHTTP(t *testing.T) {
	srv := testenv.WebDAV(t)
	newMachine(t)
	if code, out, errOut := runIn(t, "", "key", "init"); code != 0 {
		t.Fatalf("key init: %d %s%s", code, out, errOut)
	}
	lan := fmt.Sprintf("http://0.0.0.0:%d/dav/", srv.Port)
	add := func(name, url string, extra ...string) (int, string) {
		args := append([]string{"storage", "add", "webdav", "--name", name, "--url", url, "--user", srv.User, "--secret-stdin"}, extra...)
		code, out, errOut := runIn(t, srv.Password+"\n", args...)
		if strings.Contains(out+errOut, srv.Password) {
			t.Fatalf("pgsafe %s printed the password", strings.Join(args, " "))
		}
		return code, out + errOut
	}

	code, out := add("lan", lan)
	if code != 1 || !strings.Contains(out, "password would travel unencrypted") || !strings.Contains(out, "https://") || !strings.Contains(out, "--allow-http") {
		t.Fatalf("http to another machine without --allow-http: exit %d\n%s", code, out)
	}
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 0 {
		t.Fatalf("the refusal is not one line:\n%s", out)
	}
	if code, out := add("lan", lan, "--allow-http"); code != 0 {
		t.Fatalf("http to another machine with --allow-http: exit %d\n%s", code, out)
	}
	if code, out := add("here", srv.URL); code != 0 {
		t.Fatalf("http to this machine (%s): exit %d\n%s", srv.URL, code, out)
	}
	code, list, _ := runIn(t, "", "storage", "list")
	if code != 0 || !strings.Contains(list, "lan") || !strings.Contains(list, "here") {
		t.Fatalf("storage list: %s", list)
	}
}
