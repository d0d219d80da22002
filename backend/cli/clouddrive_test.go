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
)

// cloudFake is what the round trip needs of a fake cloud drive (Dropbox,
// OneDrive): no real one is reachable here.
type cloudFake struct {
	kind, name string // "dropbox", "Dropbox"
	url        string // PGSAFE_OAUTH_BASE_<KIND>
	clientID   string
	email      string
	approve    func(authURL string, allow bool) (string, error)
	revoke     func()
	files      func() []string
	tokens     func() []string
	size       func(suffix string) int
	authLink   *regexp.Regexp
}

// linkApprover is a command's stderr that plays the user: when the sign-in
// link is printed, it opens it and clicks "Allow" in the fake.
type linkApprover struct {
	f    cloudFake
	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

func (a *linkApprover) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	if u := a.f.authLink.FindString(a.buf.String()); u != "" && !a.done {
		a.done = true
		go a.f.approve(u, true)
	}
	return len(p), nil
}

func (a *linkApprover) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// Dropbox and OneDrive through the CLI, against their fakes: sign in with
// --no-browser, back up, verify, restore; the grant revoked makes the
// backup fail with "sign in to … again" and `status` say so; `storage
// signin` fixes it. No token is printed or kept in plaintext.
func TestCloudDriveRoundTrips(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE public.items (id int primary key, name text); INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
		CREATE TABLE public.noise AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS v FROM generate_series(1, 300000) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-8124'; GRANT SELECT ON public.items, public.noise TO reader; REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC;`)
	d := testenv.Dropbox(t)
	o := testenv.OneDrive(t)
	for _, f := range []cloudFake{
		{kind: "dropbox", name: "Dropbox", url: d.URL, clientID: d.OAuth.ClientID, email: d.Email, approve: d.Approve, revoke: d.Revoke,
			files: d.Files, tokens: d.OAuth.Tokens, size: func(suffix string) int { return sizeOf(d.Files(), d.File, suffix) }, authLink: regexp.MustCompile(`http://127\.0\.0\.1:\d+/oauth2/authorize\?\S+`)},
		{kind: "onedrive", name: "OneDrive", url: o.URL, clientID: o.OAuth.ClientID, email: o.Email, approve: o.Approve, revoke: o.Revoke,
			files: o.Files, tokens: o.OAuth.Tokens, size: func(suffix string) int { return sizeOf(o.Files(), o.File, suffix) }, authLink: regexp.MustCompile(`http://127\.0\.0\.1:\d+/common/oauth2/v2\.0/authorize\?\S+`)},
	} {
		t.Run(f.name, func(t *testing.T) { cloudRoundTrip(t, p, f) })
	}
}

func cloudRoundTrip(t *testing.T, p *testenv.PG, f cloudFake) {
	t.Setenv("PGSAFE_OAUTH_BASE_"+strings.ToUpper(f.kind), f.url)
	home := newMachine(t)
	var printed []string
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		printed = append(printed, out, errOut)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	signIn := func(want int, args ...string) string {
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
	run(0, "key", "init")
	out := signIn(0, "storage", "add", f.kind, "--name", "cloud", "--folder", "Backups/PgSafe", "--no-browser", "--client-id", f.clientID)
	if !strings.Contains(out, "sign in to "+f.name) || !strings.Contains(out, "added storage cloud") {
		t.Fatalf("storage add %s: %s", f.kind, out)
	}
	if out := run(0, "storage", "list"); !strings.Contains(out, f.name+": Backups/PgSafe ("+f.email+")") {
		t.Fatalf("storage list: %s", out)
	}
	run(0, "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-8124"), "--storage", "cloud")
	var b struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	code, jsonOut, errOut := runIn(t, "", "backup", "shop", "--json")
	printed = append(printed, jsonOut, errOut)
	if err := json.Unmarshal([]byte(jsonOut), &b); code != 0 || err != nil || b.Status != "succeeded" {
		t.Fatalf("backup: %+v %v %s", b, err, errOut)
	}
	// The backup, its manifest and its roles, and nothing else (the test
	// object of `storage add` was removed).
	want := []string{b.ID + ".globals.pgsafe", b.ID + ".manifest.pgsafe", b.ID + ".pgsafe"}
	if size := f.size(b.ID + ".pgsafe"); size <= 8<<20 {
		t.Fatalf("the backup is %d bytes: too small to need an upload session", size)
	}
	if fs := f.files(); len(fs) != 3 || !strings.HasPrefix(fs[0], "/Backups/PgSafe/") ||
		!strings.HasSuffix(fs[0], want[0]) || !strings.HasSuffix(fs[1], want[1]) || !strings.HasSuffix(fs[2], want[2]) {
		t.Fatalf("%s holds %v", f.name, fs)
	}
	if out := run(0, "verify", b.ID); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify: %s", out)
	}
	run(0, "restore", b.ID, "--to", p.URL("shop_"+f.kind))
	var n int
	if err := p.Conn(t, "shop_"+f.kind).QueryRow(t.Context(), "SELECT count(*) FROM public.items").Scan(&n); err != nil || n != 500 {
		t.Fatalf("restored %d rows (%v)", n, err)
	}

	f.revoke()
	if out := run(1, "backup", "shop"); !strings.Contains(out, "sign in to "+f.name+" again") {
		t.Fatalf("backup after the grant was revoked: %s", out)
	}
	if out := run(7, "status", "shop"); !strings.Contains(out, "Sign in to "+f.name+" again") {
		t.Fatalf("status after the grant was revoked: %s", out)
	}
	signIn(0, "storage", "signin", "cloud", "--no-browser")
	run(0, "backup", "shop")

	tokens := f.tokens()
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
		for _, file := range files {
			if raw, _ := os.ReadFile(file); bytes.Contains(raw, []byte(tok)) {
				t.Fatalf("a token is in plaintext in %s", file)
			}
		}
	}
}

// sizeOf is the size of the file whose path ends in suffix.
func sizeOf(paths []string, file func(string) ([]byte, bool), suffix string) int {
	for _, p := range paths {
		if strings.HasSuffix(p, "/"+suffix) {
			b, _ := file(p)
			return len(b)
		}
	}
	return -1
}
