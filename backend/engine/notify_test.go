package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestBackupNotifications: a webhook notifier hears a good backup (it asked
// for successes) and a failed one with the reason; "Send test" works; a
// notifier that cannot be built is refused before it is stored.
func TestBackupNotifications(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []notify.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body %q: %v", body, err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	waitFor := func(kind string) notify.Event {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, ev := range got {
				if ev.Kind == kind {
					mu.Unlock()
					return ev
				}
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %s notification arrived; got %+v", kind, got)
		return notify.Event{}
	}

	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "ops", Kind: store.NotifierWebhook, Enabled: true}); err == nil || !strings.Contains(err.Error(), "url") {
		t.Fatalf("a webhook without a URL: %v", err)
	}
	if _, err := e.AddNotifier(ctx, store.NotifierConfig{Name: "ops", Kind: store.NotifierWebhook, Enabled: true,
		Events: []string{notify.EventBackupFailed, notify.EventBackupSucceeded}, Settings: map[string]string{"url": hook.URL + "/pgsafe"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.TestNotifier(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	waitFor(notify.EventTest)

	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int); CREATE ROLE reader LOGIN PASSWORD 'reader-pw-73'; GRANT SELECT ON orders TO reader;`)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-73", 1)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev := waitFor(notify.EventBackupSucceeded); ev.Database != "shop" || ev.Fields["backup"] != b.ID {
		t.Fatalf("success notification %+v", ev)
	}
	os.RemoveAll(folder)
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil {
		t.Fatal("a backup to a missing folder succeeded")
	}
	ev := waitFor(notify.EventBackupFailed)
	if ev.Database != "shop" || !strings.Contains(ev.Body, "does not exist") || strings.Contains(ev.Body, "reader-pw-73") {
		t.Fatalf("failure notification %+v", ev)
	}
	if err := e.RemoveNotifier(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := e.TestNotifier(ctx, "ops"); err == nil {
		t.Fatal("a removed notifier still tests")
	}
}

func TestNearlyFull(t *testing.T) {
	const MB = 1 << 20
	cases := []struct {
		free, total, last int64
		want              bool
	}{
		{free: 500 * MB, total: 1000 * MB, last: 100 * MB, want: false},
		{free: 110 * MB, total: 1000 * MB, last: 100 * MB, want: true},  // the next backup, a little bigger, may not fit
		{free: 150 * MB, total: 1000 * MB, last: 100 * MB, want: false}, // room for the next: retention prunes after it
		{free: 990 * MB, total: 1000 * MB, last: 600 * MB, want: false}, // an empty disk with room for one more (issue 12)
		{free: 500 * MB, total: 1000 * MB, last: 600 * MB, want: true},
		{free: 40 * MB, total: 1000 * MB, last: 1 * MB, want: true}, // under 5 % of the disk
		{free: 60 * MB, total: 1000 * MB, last: 1 * MB, want: false},
	}
	for _, c := range cases {
		if got := nearlyFull(c.free, c.total, c.last); got != c.want {
			t.Errorf("nearlyFull(%d MB free of %d MB, last %d MB) = %v", c.free/MB, c.total/MB, c.last/MB, got)
		}
	}
}
