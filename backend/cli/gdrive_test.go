package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/internal/testenv/fakegoogle"
)

// approver is a command's stderr that plays the user: when the sign-in link
// is printed, it opens it and clicks "Allow" in the fake Google.
type approver struct {
	g    *fakegoogle.Server
	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

var authLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/o/oauth2/v2/auth\?\S+`)

func (a *approver) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	if u := authLink.FindString(a.buf.String()); u != "" && !a.done {
		a.done = true
		go a.g.Approve(u, true)
	}
	return len(p), nil
}

func (a *approver) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// Google Drive through the CLI, against the fake Google (no real one is
// reachable here): sign in with --no-browser, back up, verify, restore; the
// grant revoked makes the backup fail with "sign in to Google Drive again"
// and `status` say so; `storage signin` fixes it. No token is printed or
// kept in plaintext.
func TestGoogleDriveRoundTrip(t *testing.T) {
	g := fakegoogle.Start(t)
	t.Setenv("PGSAFE_OAUTH_BASE_GDRIVE", g.URL)
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE public.items (id int primary key, name text); INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-8123'; GRANT SELECT ON public.items TO reader; REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC;`)
	home := newMachine(t)
	var printed []string
	// run returns stdout, and stderr after a line "--stderr--".
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		printed = append(printed, out, errOut)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if errOut != "" {
			return out + "\n--stderr--\n" + errOut
		}
		return out
	}
	signIn := func(want int, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		a := &approver{g: g}
		code := Run(&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: a}, args)
		printed = append(printed, out.String(), a.String())
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), a.String())
		}
		return out.String() + a.String()
	}
	run(0, "key", "init")
	if out := signIn(1, "storage", "add", "gdrive", "--name", "gd", "--folder", "Backups/PgSafe", "--no-browser"); !strings.Contains(out, "client ID") {
		t.Fatalf("a build without a client ID must say to give one: %s", out)
	}
	out := signIn(0, "storage", "add", "gdrive", "--name", "gd", "--folder", "Backups/PgSafe", "--no-browser", "--client-id", g.ClientID)
	if !strings.Contains(out, "Open this link in a browser to sign in to Google Drive") || !strings.Contains(out, "added storage gd") {
		t.Fatalf("storage add gdrive: %s", out)
	}
	if out := run(0, "storage", "list"); !strings.Contains(out, "gdrive") || !strings.Contains(out, "Google Drive: Backups/PgSafe ("+g.Email+")") {
		t.Fatalf("storage list: %s", out)
	}
	run(0, "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-8123"), "--storage", "gd")
	var b struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(strings.Split(run(0, "backup", "shop", "--json"), "\n--stderr--\n")[0]), &b); err != nil || b.Status != "succeeded" {
		t.Fatalf("backup: %+v %v", b, err)
	}
	if fs := g.Files(""); len(fs) != 3 || !strings.HasSuffix(fs[2].Name, b.ID+".pgsafe") {
		for _, f := range fs {
			t.Log(f.Name)
		}
		t.Fatalf("Drive holds %d files", len(fs))
	}
	if out := run(0, "verify", b.ID); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify: %s", out)
	}
	run(0, "restore", b.ID, "--to", p.URL("shop_copy"))
	var n int
	if err := p.Conn(t, "shop_copy").QueryRow(t.Context(), "SELECT count(*) FROM public.items").Scan(&n); err != nil || n != 500 {
		t.Fatalf("restored %d rows (%v)", n, err)
	}

	g.Revoke()
	if out := run(1, "backup", "shop"); !strings.Contains(out, "sign in to Google Drive again") {
		t.Fatalf("backup after the grant was revoked: %s", out)
	}
	if out := run(7, "status", "shop"); !strings.Contains(out, "Sign in to Google Drive again") {
		t.Fatalf("status after the grant was revoked: %s", out)
	}
	signIn(0, "storage", "signin", "gd", "--no-browser")
	run(0, "backup", "shop")

	// No token anywhere a person or another program could read it.
	var tokens []string
	for _, line := range strings.Split(g.Tokens(), "\n") {
		if line != "" {
			tokens = append(tokens, line)
		}
	}
	if len(tokens) == 0 {
		t.Fatal("the fake handed out no tokens")
	}
	files, _ := filepath.Glob(filepath.Join(home, "*"))
	for _, tok := range tokens {
		for _, o := range printed {
			if strings.Contains(o, tok) {
				t.Fatalf("a token was printed:\n%s", o)
			}
		}
		for _, f := range files {
			if raw, _ := os.ReadFile(f); bytes.Contains(raw, []byte(tok)) {
				t.Fatalf("a token is in plaintext in %s", f)
			}
		}
	}
}
