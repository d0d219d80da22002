package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// events collects a scheduler's events.
type events struct {
	mu  sync.Mutex
	all []ScheduleEvent
}

func (ev *events) add(e ScheduleEvent) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.all = append(ev.all, e)
}

// wait returns the first event matching ok, waiting up to d for it.
func (ev *events) wait(t *testing.T, d time.Duration, what string, ok func(ScheduleEvent) bool) ScheduleEvent {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ev.mu.Lock()
		for _, e := range ev.all {
			if ok(e) {
				ev.mu.Unlock()
				return e
			}
		}
		ev.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	t.Fatalf("no %s within %s; events: %+v", what, d, ev.all)
	return ScheduleEvent{}
}

func TestSetShowClearSchedule(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	if _, err := e.store.CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "localhost", Port: 5432, DBName: "shop", User: "u"}); err != nil {
		t.Fatal(err)
	}
	daily := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "02:30", TimeZone: "Europe/Berlin"}
	if err := e.SetSchedule(ctx, "nope", daily); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown database: %v", err)
	}
	bad := daily
	bad.At = "2:30pm"
	if err := e.SetSchedule(ctx, "shop", bad); err == nil || !strings.Contains(err.Error(), "HH:MM") {
		t.Fatalf("bad time: %v", err)
	}
	if err := e.SetSchedule(ctx, "shop", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleCron, Cron: "0 0 31 2 *"}); err == nil || !strings.Contains(err.Error(), "never runs") {
		t.Fatalf("cron that never runs: %v", err)
	}
	if _, err := e.Schedule(ctx, "shop"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "schedule set") {
		t.Fatalf("no schedule yet: %v", err)
	}

	before := time.Now()
	if err := e.SetSchedule(ctx, "shop", daily); err != nil {
		t.Fatal(err)
	}
	info, err := e.Schedule(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	next := info.Schedule.NextRunAt.In(berlin)
	if next.Hour() != 2 || next.Minute() != 30 || !next.After(before) || next.Sub(before) > 25*time.Hour {
		t.Fatalf("next run %s", next)
	}
	if info.Description != "daily at 02:30 (Europe/Berlin)" || info.Spec != "02:30" || info.Database != "shop" || !info.Schedule.LastRunAt.IsZero() {
		t.Fatalf("info %+v", info)
	}
	if err := e.SetSchedule(ctx, "shop", daily); err != nil { // unchanged: not audited again
		t.Fatal(err)
	}
	weekly := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleWeekly, Weekdays: []int{1, 3}, At: "02:30", TimeZone: "Europe/Berlin"}
	if err := e.SetSchedule(ctx, "shop", weekly); err != nil {
		t.Fatal(err)
	}
	if err := e.ClearSchedule(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := e.ClearSchedule(ctx, "shop"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clearing twice: %v", err)
	}
	if got := audit.actions(); got != "schedule.changed:ok,schedule.changed:ok,schedule.cleared:ok" {
		t.Fatalf("audited %s", got)
	}
	audit.mu.Lock()
	first, second := audit.events[0].Fields, audit.events[1].Fields
	audit.mu.Unlock()
	if !strings.Contains(first["fields"], "kind") || first["next_run"] == "" || second["fields"] != "kind,weekdays" {
		t.Fatalf("audit fields %v / %v", first, second)
	}

	// Pause and resume, kept in the settings.
	if err := e.PauseSchedules(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if until, paused, err := e.SchedulesPaused(ctx); err != nil || !paused || until.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("paused %v until %s (%v)", paused, until, err)
	}
	if err := e.ResumeSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if _, paused, _ := e.SchedulesPaused(ctx); paused {
		t.Fatal("still paused")
	}
}

// Scheduled backups through the real pipeline: they land in the history as
// "scheduled", the bookkeeping is persisted, a database without storage
// fails visibly (in the history too) without stopping the others, and a
// second scheduler on the same settings is refused.
func TestRunSchedulerBacksUp(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 500);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-9'; GRANT SELECT ON orders TO reader;`)
	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "reader:reader-pw-9", 1)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "orphan", URL: url}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{SettingScheduleRetries: "0", SettingScheduleJitter: "0"} {
		if _, err := e.store.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	everySecond := store.ScheduleConfig{Enabled: true, Kind: store.ScheduleCron, Cron: "* * * * * *"}
	for _, n := range []string{"shop", "orphan"} {
		if err := e.SetSchedule(ctx, n, everySecond); err != nil {
			t.Fatal(err)
		}
	}

	var evs events
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.RunScheduler(runCtx, SchedulerOptions{OnEvent: evs.add, Heartbeat: time.Second}) }()

	fin := evs.wait(t, 20*time.Second, "finished backup of shop", func(ev ScheduleEvent) bool {
		return ev.Kind == "finished" && ev.Database == "shop"
	})
	if fin.Backup == nil || fin.Backup.Origin != store.OriginScheduled || fin.Backup.Status != store.StatusSucceeded || fin.Next.IsZero() {
		t.Fatalf("finished event %+v", fin)
	}
	failed := evs.wait(t, 10*time.Second, "failed run of orphan", func(ev ScheduleEvent) bool {
		return ev.Kind == "failed" && ev.Database == "orphan"
	})
	if !strings.Contains(failed.Error, "no storage") || failed.Backup == nil || failed.Backup.Status != store.StatusFailed || failed.Backup.Origin != store.OriginScheduled {
		t.Fatalf("failed event %+v", failed)
	}

	// One scheduler per settings directory.
	other, err := Open(ctx, Options{Home: e.Home()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.RunScheduler(ctx, SchedulerOptions{}); err == nil || !strings.Contains(err.Error(), "already running the schedules") {
		t.Fatalf("a second scheduler: %v", err)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the scheduler did not stop")
	}
	hist, err := e.Backups(ctx, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	var scheduled int
	for _, b := range hist {
		if b.Origin == store.OriginScheduled && b.Status == store.StatusSucceeded {
			scheduled++
		}
		if b.Status == store.StatusRunning {
			t.Fatalf("a backup is left running after the stop: %+v", b)
		}
	}
	if scheduled == 0 {
		t.Fatalf("no scheduled backup in the history: %+v", hist)
	}
	info, err := e.Schedule(ctx, "shop")
	if err != nil || info.Schedule.LastRunAt.IsZero() || info.Schedule.NextRunAt.IsZero() || info.LastBackup == nil || info.LastBackup.Origin != store.OriginScheduled {
		t.Fatalf("schedule after the runs: %+v (%v)", info, err)
	}
	if orphan, _ := e.Backups(ctx, "orphan", 0); len(orphan) == 0 || orphan[0].Error == "" {
		t.Fatalf("orphan history %+v", orphan)
	}
	// The lock is released: another scheduler may start now.
	ctx2, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := other.RunScheduler(ctx2, SchedulerOptions{}); err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
}

// Stopping mid-backup without grace: the backup ends as cancelled with
// nothing left in the storage, and the slot is not marked as served.
func TestRunSchedulerStopCancelsCleanly(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	_, url := bigShop(t)
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: url, StorageNames: []string{"nas"}}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetSchedule(ctx, "shop", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleCron, Cron: "* * * * * *"}); err != nil {
		t.Fatal(err)
	}
	var evs events
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.RunScheduler(runCtx, SchedulerOptions{OnEvent: evs.add, Grace: -1}) }()
	started := evs.wait(t, 20*time.Second, "a started backup", func(ev ScheduleEvent) bool { return ev.Kind == "started" })
	// Let pg_dump get going.
	deadline := time.Now().Add(10 * time.Second)
	for len(e.RunningBackups()) == 0 || e.RunningBackups()[0].Progress().RawBytes == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled backup did not get going")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := evs.wait(t, time.Second, "a cancelled event", func(ev ScheduleEvent) bool { return ev.Kind == "cancelled" })
	if c.Backup == nil || c.Backup.Status != store.StatusCancelled {
		t.Fatalf("cancelled event %+v", c)
	}
	hist, _ := e.Backups(ctx, "shop", 0)
	if len(hist) != 1 || hist[0].Status != store.StatusCancelled || hist[0].Origin != store.OriginScheduled {
		t.Fatalf("history %+v", hist)
	}
	if left, _ := filepath.Glob(filepath.Join(folder, "*", "*")); len(left) != 0 {
		t.Fatalf("a cancelled backup left %v", left)
	}
	info, _ := e.Schedule(ctx, "shop")
	if !info.Schedule.LastRunAt.IsZero() || !info.Schedule.NextRunAt.Equal(started.Slot.Truncate(time.Millisecond)) {
		t.Fatalf("the cancelled slot must stay due: last %s next %s (slot %s)", info.Schedule.LastRunAt, info.Schedule.NextRunAt, started.Slot)
	}
}
