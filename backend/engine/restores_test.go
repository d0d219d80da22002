package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// TestRestoreResult: what a restore returns to the window: the bytes read
// (on the callback and the event stream) up to the stored size, the restored
// rows compared with the backup's counts, and a connection string without
// the password, for a parallel restore to the same server and a streamed
// one to a URL.
func TestRestoreResult(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv, _, _ := shopOnNAS(t, e, 3000)
	b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var streamed []restore.Progress
	unsubscribe := e.Subscribe(func(ev JobEvent) {
		if ev.Type == EventJobProgress && ev.Job == JobRestore && ev.Restore != nil {
			mu.Lock()
			streamed = append(streamed, *ev.Restore)
			mu.Unlock()
		}
	})
	defer unsubscribe()

	for _, tc := range []struct {
		name string
		to   RestoreTarget
		jobs int
		want string
	}{
		{"same server, parallel", RestoreTarget{SameServer: true, User: srv.User, Password: srv.Password, Database: "shop_same"}, 2,
			fmt.Sprintf("postgres://%s@127.0.0.1:%d/shop_same", srv.User, srv.Port)},
		{"URL, streamed", RestoreTarget{URL: srv.URL("shop_url")}, 1,
			fmt.Sprintf("postgres://%s@127.0.0.1:%d/shop_url", srv.User, srv.Port)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			streamed = nil
			mu.Unlock()
			var got []restore.Progress
			rr, err := e.RestoreBackup(ctx, *b, tc.to, RestoreOptions{NoOwner: true, Jobs: tc.jobs, Progress: func(p restore.Progress) { got = append(got, p) }})
			if err != nil {
				t.Fatal(err)
			}
			if rr.Connection != tc.want || strings.Contains(rr.Connection, srv.Password) {
				t.Errorf("connection %q, want %q", rr.Connection, tc.want)
			}
			if !rr.Rows.Match() || rr.Rows.Tables != 1 {
				t.Errorf("row check %+v", rr.Rows)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 || len(streamed) != len(got) {
				t.Fatalf("%d progress reports on the callback, %d on the event stream", len(got), len(streamed))
			}
			for i := range got {
				if got[i] != streamed[i] {
					t.Fatalf("report %d: %+v on the callback, %+v on the stream", i, got[i], streamed[i])
				}
			}
			last := got[len(got)-1]
			if last.Phase != "done" || last.ReadBytes != b.StoredSize || last.Total != b.StoredSize {
				t.Fatalf("last progress %+v, stored size %d", last, b.StoredSize)
			}
		})
	}
}
