package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/store"
)

// ping is a request a heartbeat made: "GET /path", and its body.
type ping struct{ line, body string }

// pingServer records the requests it gets, in order, on a channel.
func pingServer(t *testing.T) (*httptest.Server, chan ping) {
	t.Helper()
	got := make(chan ping, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- ping{r.Method + " " + r.URL.EscapedPath(), string(body)}
		io.WriteString(w, "OK")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// pingsUntil collects pings up to the test ping (the marker a test sends
// after what it waits for: a notifier's events are delivered in order).
func pingsUntil(t *testing.T, got chan ping, marker string) []ping {
	t.Helper()
	var out []ping
	timeout := time.After(30 * time.Second)
	for {
		select {
		case p := <-got:
			if p.line == marker {
				return out
			}
			out = append(out, p)
		case <-timeout:
			t.Fatalf("the marker %q never arrived; got %q", marker, out)
		}
	}
}

func lines(ps []ping) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.line)
	}
	return out
}

// TestHeartbeatPingsBackups: a healthchecks heartbeat (one notifier for
// every database, through {database}) pings start then success for a
// backup against a real PostgreSQL, and start then fail, with the reason,
// for a failed one; a webhook on the default events hears of neither start
// nor success.
func TestHeartbeatPingsBackups(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	hc, pings := pingServer(t)
	hook, hooked := pingServer(t)
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "hc", Kind: store.NotifierHeartbeat, Enabled: true,
		Settings: map[string]string{"service": "healthchecks"},
		Secrets:  map[string]store.Secret{"url": store.NewSecret(hc.URL + "/pingKEY/{database}")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "ops", Kind: store.NotifierWebhook, Enabled: true,
		Settings: map[string]string{"url": hook.URL + "/hook"}}); err != nil {
		t.Fatal(err)
	}

	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int); CREATE ROLE reader LOGIN PASSWORD 'reader-pw-17'; GRANT SELECT ON orders TO reader;`)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-17", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	e.notify(notify.TestEvent("marker"))
	if got, want := lines(pingsUntil(t, pings, "GET /pingKEY/pgsafe-test")), []string{"GET /pingKEY/shop/start", "GET /pingKEY/shop"}; !slices.Equal(got, want) {
		t.Fatalf("a good backup pinged %q, want %q", got, want)
	}

	os.RemoveAll(folder)
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil {
		t.Fatal("a backup to a missing folder succeeded")
	}
	e.notify(notify.TestEvent("marker"))
	got := pingsUntil(t, pings, "GET /pingKEY/pgsafe-test")
	if want := []string{"GET /pingKEY/shop/start", "POST /pingKEY/shop/fail"}; !slices.Equal(lines(got), want) {
		t.Fatalf("a failed backup pinged %q, want %q", lines(got), want)
	}
	if reason := got[1].body; !strings.Contains(reason, "does not exist") || strings.Contains(reason, "\n") || strings.Contains(reason, "reader-pw-17") {
		t.Errorf("fail ping's reason %q: want the cause on one line", reason)
	}

	var kinds []string
	for _, p := range pingsUntilKind(t, hooked, notify.EventTest) {
		var ev notify.Event
		if err := json.Unmarshal([]byte(p.body), &ev); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, ev.Kind)
	}
	if want := []string{notify.EventBackupFailed, notify.EventTest}; !slices.Equal(kinds, want) {
		t.Errorf("the webhook on the default events heard %q, want %q", kinds, want)
	}

	// A cancelled backup: the check hears at once that no backup was made
	// (healthchecks would otherwise wait out its grace time after /start);
	// people are not told of a cancel.
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := e.BackupNow(cctx, "shop", store.OriginManual, func(backup.Progress) { cancel() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled backup returned %v", err)
	}
	if hist, _ := e.Backups(ctx, "shop", 1); len(hist) != 1 || hist[0].Status != store.StatusCancelled {
		t.Fatalf("history after the cancel: %+v", hist)
	}
	e.notify(notify.TestEvent("marker"))
	got = pingsUntil(t, pings, "GET /pingKEY/pgsafe-test")
	if want := []string{"GET /pingKEY/shop/start", "POST /pingKEY/shop/fail"}; !slices.Equal(lines(got), want) {
		t.Fatalf("a cancelled backup pinged %q, want %q", lines(got), want)
	}
	if reason := got[1].body; !strings.Contains(reason, "cancelled") {
		t.Errorf("the cancelled backup's fail ping says %q", reason)
	}
	e.notify(notify.TestEvent("marker"))
	if heard := pingsUntilKind(t, hooked, notify.EventTest); len(heard) != 1 {
		t.Errorf("the webhook heard %d events of a cancelled backup", len(heard)-1)
	}
}

// pingsUntilKind collects a webhook's events up to the second of kind (the
// two markers the test sent).
func pingsUntilKind(t *testing.T, got chan ping, kind string) []ping {
	t.Helper()
	var out []ping
	seen := 0
	timeout := time.After(30 * time.Second)
	for {
		select {
		case p := <-got:
			if strings.Contains(p.body, `"kind":"`+kind+`"`) {
				if seen++; seen == 2 {
					return append(out, p)
				}
				continue
			}
			out = append(out, p)
		case <-timeout:
			t.Fatalf("the markers never arrived; got %d", len(out))
		}
	}
}

// TestHeartbeatServerRun: a server entry's run pings a heartbeat for each
// of its databases (start, then success), and none for the run itself,
// whose one notification goes to the webhook alone.
func TestHeartbeatServerRun(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	hc, pings := pingServer(t)
	hook, hooked := pingServer(t)
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "hc", Kind: store.NotifierHeartbeat, Enabled: true,
		Settings: map[string]string{"service": "healthchecks"},
		Secrets:  map[string]store.Secret{"url": store.NewSecret(hc.URL + "/k/{database}")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "ops", Kind: store.NotifierWebhook, Enabled: true,
		Events: []string{notify.EventBackupSucceeded}, Settings: map[string]string{"url": hook.URL + "/hook"}}); err != nil {
		t.Fatal(err)
	}
	serverOnNAS(t, e, "app", "crm")
	if _, err := e.BackupNow(ctx, "prod", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	e.notify(notify.TestEvent("marker"))
	got := lines(pingsUntil(t, pings, "GET /k/pgsafe-test"))
	for _, db := range []string{"app", "crm"} { // backed up side by side: each in order
		var mine []string
		for _, l := range got {
			if strings.HasPrefix(l, "GET /k/prod%2F"+db) {
				mine = append(mine, l)
			}
		}
		if want := []string{"GET /k/prod%2F" + db + "/start", "GET /k/prod%2F" + db}; !slices.Equal(mine, want) {
			t.Errorf("%s pinged %q, want %q", db, mine, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("pings %q: want 4 (the run itself pings nothing)", got)
	}
	if p := nextPing(t, hooked); !strings.Contains(p.body, `"kind":"backup.succeeded"`) || !strings.Contains(p.body, `"database":"prod"`) {
		t.Errorf("the webhook heard %s, want the run's success", p.body)
	}
	if p := nextPing(t, hooked); !strings.Contains(p.body, `"kind":"test"`) {
		t.Errorf("the webhook heard more than the run: %s", p.body)
	}
}

func nextPing(t *testing.T, got chan ping) ping {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("no request arrived")
		return ping{}
	}
}
