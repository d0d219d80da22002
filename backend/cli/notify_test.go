package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// `notify add heartbeat` takes the ping URL on stdin only, never shows it
// again, and `notify test` pings it.
func TestNotifyAddHeartbeat(t *testing.T) {
	t.Setenv("PGSAFE_HOME", t.TempDir())
	mk, _ := keys.NewMasterKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.EnvKeyFile, keyFile)
	pinged := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pinged <- r.Method + " " + r.URL.Path
		io.WriteString(w, "OK")
	}))
	defer srv.Close()
	url := srv.URL + "/ping/cliUUIDsecret42"

	if code, _, errOut := runIn(t, "", "notify", "add", "heartbeat", "--name", "hc", "--service", "healthchecks"); code == 0 || !strings.Contains(errOut, "--url-stdin") {
		t.Fatalf("without --url-stdin: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runIn(t, url+"\n", "notify", "add", "heartbeat", "--name", "hc", "--service", "nagios", "--url-stdin"); code == 0 ||
		!strings.Contains(errOut, `settings.service: "nagios" is not one of healthchecks, uptime-kuma, url`) {
		t.Fatalf("a wrong service: exit %d, %s", code, errOut)
	}
	if code, out, errOut := runIn(t, url+"\n", "notify", "add", "heartbeat", "--name", "hc", "--service", "healthchecks", "--url-stdin", "--database", "Shop"); code != 0 {
		t.Fatalf("notify add heartbeat: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runIn(t, "", "notify", "list")
	if code != 0 || !strings.Contains(out, "hc\theartbeat\tservice=healthchecks\tdatabase=Shop\turl set") || strings.Contains(out+errOut, "cliUUIDsecret42") {
		t.Fatalf("notify list: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runIn(t, "", "notify", "test", "hc"); code != 0 || !strings.Contains(out, "test sent") {
		t.Fatalf("notify test: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := <-pinged; got != "GET /ping/cliUUIDsecret42" {
		t.Errorf("the test pinged %q", got)
	}
	srv.Close()
	if code, out, errOut := runIn(t, "", "notify", "test", "hc"); code == 0 || strings.Contains(out+errOut, "cliUUIDsecret42") || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("a test to a server that is gone: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, _ := runIn(t, "", "notify", "remove", "hc"); code != 0 {
		t.Fatal("notify remove failed")
	}
}
