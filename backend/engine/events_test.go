package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// recorder collects the engine's event stream.
type recorder struct {
	mu  sync.Mutex
	all []JobEvent
}

func (r *recorder) add(ev JobEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, ev)
}

// take returns the events so far and forgets them.
func (r *recorder) take() []JobEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.all
	r.all = nil
	return out
}

func withoutProgress(evs []JobEvent) []JobEvent {
	var out []JobEvent
	for _, ev := range evs {
		if ev.Type != EventJobProgress {
			out = append(out, ev)
		}
	}
	return out
}

func types(evs []JobEvent) string {
	var out []string
	for i, ev := range evs {
		if ev.Type == EventJobProgress && i > 0 && evs[i-1].Type == EventJobProgress {
			continue // one "job.progress" for a run of them
		}
		out = append(out, ev.Type)
	}
	return strings.Join(out, ",")
}

// Every job, whatever started it, is on the one stream: a scheduled backup
// (no progress callback of its own) still reports its progress, and the
// database's new state follows its end.
func TestEventStream(t *testing.T) {
	e, _ := newEngine(t)
	srv, _, _ := shopOnNAS(t, e, 2000)
	ctx := context.Background()
	var rec recorder
	unsubscribe := e.Subscribe(rec.add)

	// A face told a backup started can count on its history record: were
	// PgSafe killed the next moment, the next start marks it interrupted.
	var startedAs store.Status
	told := WithJobStarted(ctx, func(id string) {
		if r, err := e.store.Backup(ctx, id); err == nil {
			startedAs = r.Status
		}
	})
	b, err := e.BackupNow(told, "shop", store.OriginScheduled, nil)
	if err != nil {
		t.Fatal(err)
	}
	if startedAs != store.StatusRunning {
		t.Fatalf("when the job started was told, its history record was %q, not running", startedAs)
	}
	evs := rec.take()
	if got := types(evs); got != "job.started,job.progress,job.finished,status.changed" {
		t.Fatalf("a scheduled backup's events: %s", got)
	}
	for _, ev := range evs[:len(evs)-1] {
		if ev.Job != JobBackup || ev.Database != "shop" || ev.JobID != b.ID || ev.Origin != store.OriginScheduled {
			t.Fatalf("a backup event names the wrong job: %+v", ev)
		}
	}
	if p := evs[len(evs)-3]; p.Backup == nil || p.Backup.RawBytes == 0 {
		t.Fatalf("the last progress before the end: %+v", p)
	}
	if fin := evs[len(evs)-2]; fin.Outcome != "succeeded" || fin.Error != "" {
		t.Fatalf("finished: %+v", fin)
	}
	st := evs[len(evs)-1].Status
	if st == nil || st.Name != "shop" || st.State != status.Attention || st.Reasons[0].Code != status.CodeNeverVerified {
		t.Fatalf("the state after a first backup (never verified): %+v", st)
	}

	// A verification: started, finished, and the state it leaves.
	if _, err := e.VerifyBackup(ctx, *b, ""); err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if got := types(evs); got != "job.started,job.finished,status.changed" {
		t.Fatalf("a verification's events: %s", got)
	}
	if evs[0].Job != JobVerify || evs[0].Origin != "manual" || evs[1].Outcome != "succeeded" {
		t.Fatalf("verification events: %+v", evs[:2])
	}
	if st := evs[2].Status; st.State != status.Attention || st.Reasons[0].Code != status.CodeNoKit {
		t.Fatalf("verified, no recovery kit yet: %+v", st)
	}

	// The reader's password changed on the server: the next backup fails,
	// and the same stream says so with the reason and the failing state.
	srv.Exec(t, "shop", `ALTER ROLE reader PASSWORD 'changed-elsewhere-7'`)
	if _, err := e.BackupNow(ctx, "shop", store.OriginScheduled, nil); err == nil {
		t.Fatal("a backup with a stale password succeeded")
	}
	evs = withoutProgress(rec.take()) // it may have begun (pg_dump started) or not
	if got := types(evs); got != "job.started,job.finished,status.changed" {
		t.Fatalf("a failed backup's events: %s", got)
	}
	if fin := evs[1]; fin.Outcome != "failed" || !strings.Contains(fin.Error, "password") {
		t.Fatalf("failed backup: %+v", fin)
	}
	if st := evs[2].Status; st.State != status.Failing || st.Reasons[0].Code != status.CodeBackupFailed {
		t.Fatalf("the state after a failed backup: %+v", st)
	}

	// Settings that change a state say so too; after unsubscribing, nothing.
	if err := e.PauseSchedules(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if evs = rec.take(); types(evs) != "status.changed" || evs[0].Database != "shop" {
		t.Fatalf("pausing the schedules: %+v", evs)
	}
	unsubscribe()
	if err := e.ResumeSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if evs = rec.take(); len(evs) != 0 {
		t.Fatalf("events after unsubscribing: %+v", evs)
	}
}
