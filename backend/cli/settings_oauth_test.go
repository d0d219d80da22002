package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// The user's own OAuth clients through `pgsafe settings oauth`, against the
// fake Dropbox and OneDrive (this test binary is built without client IDs):
// a sign-in without a client fails saying how to give one; a client saved
// in settings is what the next sign-in uses (the fakes check the client ID,
// and OneDrive's the client secret); the secret is listed as "saved" only,
// never printed nor kept in plaintext; clearing a client leaves the storage
// signed in with it working.
func TestSettingsOAuthClients(t *testing.T) {
	d := testenv.Dropbox(t)
	o := testenv.OneDrive(t)
	o.OAuth.ClientSecret = "od-secret-" + strings.Repeat("7f3a", 6)
	t.Setenv("PGSAFE_OAUTH_BASE_DROPBOX", d.URL)
	t.Setenv("PGSAFE_OAUTH_BASE_ONEDRIVE", o.URL)
	home := newMachine(t)
	var printed []string
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		printed = append(printed, out, errOut)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	signIn := func(f cloudFake, want int, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		a := &linkApprover{f: f}
		code := Run(&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: a}, args)
		printed = append(printed, out.String(), a.String())
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), a.String())
		}
		return out.String() + a.String()
	}
	dropbox := cloudFake{approve: d.Approve, authLink: regexp.MustCompile(`http://127\.0\.0\.1:\d+/oauth2/authorize\?\S+`)}
	onedrive := cloudFake{approve: o.Approve, authLink: regexp.MustCompile(`http://127\.0\.0\.1:\d+/common/oauth2/v2\.0/authorize\?\S+`)}
	row := regexp.MustCompile(`(?m)^(\S+)\s+(Google Drive|Dropbox|OneDrive)\s+(built in|none)\s+(\S+)\s+(\S+)$`)
	clients := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, m := range row.FindAllStringSubmatch(run(0, "", "settings", "oauth"), -1) {
			out[m[1]] = m[3:]
		}
		if len(out) != 3 {
			t.Fatalf("settings oauth lists %v", out)
		}
		return out
	}

	run(0, "", "key", "init")
	if got := clients(); got["dropbox"][0] != "none" || got["dropbox"][1] != "-" || got["onedrive"][1] != "-" {
		t.Fatalf("settings oauth before any client: %v", got)
	}
	out := run(1, "", "storage", "add", "dropbox", "--name", "box", "--no-browser")
	if !strings.Contains(out, "built without an OAuth client ID") || !strings.Contains(out, "pgsafe settings oauth set KIND --client-id ID") {
		t.Fatalf("sign-in without a client: %s", out)
	}
	if out := run(1, "secret\n", "settings", "oauth", "set", "dropbox", "--client-id", d.OAuth.ClientID, "--client-secret-stdin"); !strings.Contains(out, "needs no secret") {
		t.Fatalf("a Dropbox secret: %s", out)
	}
	run(0, "", "settings", "oauth", "set", "dropbox", "--client-id", d.OAuth.ClientID)
	run(0, o.OAuth.ClientSecret+"\n", "settings", "oauth", "set", "onedrive", "--client-id", o.OAuth.ClientID, "--client-secret-stdin")
	got := clients()
	if got["dropbox"][1] != d.OAuth.ClientID || got["dropbox"][2] != "-" || got["onedrive"][1] != o.OAuth.ClientID || got["onedrive"][2] != "saved" || got["gdrive"][1] != "-" {
		t.Fatalf("settings oauth after set: %v", got)
	}

	// The next sign-ins use them: the fakes refuse any other client ID (and OneDrive a missing secret).
	if out := signIn(dropbox, 0, "storage", "add", "dropbox", "--name", "box", "--no-browser"); !strings.Contains(out, "added storage box") {
		t.Fatalf("storage add dropbox: %s", out)
	}
	if out := signIn(onedrive, 0, "storage", "add", "onedrive", "--name", "od", "--no-browser"); !strings.Contains(out, "added storage od") {
		t.Fatalf("storage add onedrive: %s", out)
	}
	// Set again with the same ID and no secret: the secret stays.
	run(0, "", "settings", "oauth", "set", "onedrive", "--client-id", o.OAuth.ClientID)
	if got := clients(); got["onedrive"][2] != "saved" {
		t.Fatalf("the secret went with a set of the same ID: %v", got)
	}

	// Cleared: the storages keep the client they signed in with.
	run(0, "", "settings", "oauth", "clear", "dropbox")
	run(0, "", "settings", "oauth", "clear", "onedrive")
	if got := clients(); got["dropbox"][1] != "-" || got["onedrive"][1] != "-" || got["onedrive"][2] != "-" {
		t.Fatalf("settings oauth after clear: %v", got)
	}
	run(0, "", "storage", "test", "box")
	run(0, "", "storage", "test", "od")

	for _, s := range printed {
		if strings.Contains(s, o.OAuth.ClientSecret) {
			t.Fatalf("the client secret was printed: %s", s)
		}
	}
	files, _ := filepath.Glob(filepath.Join(home, "*"))
	for _, file := range files {
		if raw, _ := os.ReadFile(file); bytes.Contains(raw, []byte(o.OAuth.ClientSecret)) {
			t.Fatalf("the client secret is in plaintext in %s", file)
		}
	}
}
