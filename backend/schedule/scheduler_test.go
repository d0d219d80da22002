package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The engine's store keeps the scheduler's bookkeeping.
var _ Store = (*store.Store)(nil)

// memStore is a Store kept in memory, with failures to order.
type memStore struct {
	mu          sync.Mutex
	scheds      map[int64]store.Schedule
	loadErr     error
	markErr     error
	paused      bool
	pausedUntil time.Time
}

func newMemStore() *memStore { return &memStore{scheds: map[int64]store.Schedule{}} }

func (m *memStore) put(id int64, cfg store.ScheduleConfig, next time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg.Enabled = true
	sc := m.scheds[id]
	sc.DatabaseID, sc.ScheduleConfig, sc.NextRunAt = id, cfg, next
	sc.UpdatedAt = sc.UpdatedAt.Add(time.Second) // a new version
	m.scheds[id] = sc
}

func (m *memStore) get(id int64) store.Schedule {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scheds[id]
}

func (m *memStore) Schedules(context.Context) ([]store.Schedule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return nil, m.loadErr
	}
	var out []store.Schedule
	for _, s := range m.scheds {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b store.Schedule) int { return int(a.DatabaseID - b.DatabaseID) })
	return out, nil
}

func (m *memStore) MarkScheduleRun(_ context.Context, id int64, last, next time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.markErr != nil {
		return m.markErr
	}
	sc, ok := m.scheds[id]
	if !ok {
		return fmt.Errorf("database %d has no schedule: %w", id, store.ErrNotFound)
	}
	if !last.IsZero() {
		sc.LastRunAt = last
	}
	sc.NextRunAt = next
	m.scheds[id] = sc
	return nil
}

func (m *memStore) SchedulesPaused(context.Context) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pausedUntil, m.paused, nil
}

func (m *memStore) SetSchedulesPaused(_ context.Context, until time.Time, paused bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paused, m.pausedUntil = paused, until
	return nil
}

type call struct {
	id      int64
	at      time.Time
	ctx     context.Context
	catchUp bool
}

// harness runs a Scheduler over a fake clock and records what it does.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	s      *Scheduler
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned runErr
	runErr error

	mu     sync.Mutex
	events []Event
	runs   []call
	ready  []call
	// run and readyFn decide a call's outcome (nil: success); n counts the
	// calls for that database from 1.
	run     func(ctx context.Context, id int64, n int) error
	readyFn func(ctx context.Context, id int64, n int) error
}

var base = time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC) // a Monday

func newHarness(t *testing.T, st Store, clock *fakeClock, opts Options) *harness {
	t.Helper()
	if clock == nil {
		clock = newFakeClock(base)
	}
	h := &harness{t: t, clock: clock}
	opts.Store, opts.Clock = st, clock
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.OnEvent = func(ev Event) {
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
	}
	opts.Run = func(ctx context.Context, id int64) error {
		h.mu.Lock()
		h.runs = append(h.runs, call{id: id, at: clock.Now(), ctx: ctx})
		n, fn := h.count(h.runs, id), h.run
		h.mu.Unlock()
		if fn != nil {
			return fn(ctx, id, n)
		}
		return nil
	}
	if opts.Ready == nil {
		opts.Ready = func(ctx context.Context, id int64) error {
			h.mu.Lock()
			h.ready = append(h.ready, call{id: id, at: clock.Now()})
			n, fn := h.count(h.ready, id), h.readyFn
			h.mu.Unlock()
			if fn != nil {
				return fn(ctx, id, n)
			}
			return nil
		}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return h
}

func (h *harness) count(calls []call, id int64) int {
	n := 0
	for _, c := range calls {
		if c.id == id {
			n++
		}
	}
	return n
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		h.runErr = h.s.Run(ctx)
		close(h.done)
	}()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
		}
	})
	h.settle()
}

// stop cancels the scheduler and waits for Run to return.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	select {
	case <-h.done:
		return h.runErr
	case <-time.After(5 * time.Second):
		h.t.Fatal("the scheduler did not stop")
		return nil
	}
}

// waitFor waits (in real time) until cond holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; !cond(); i++ {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; events: %v", what, h.kinds())
		}
		if i < 2000 {
			runtime.Gosched()
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// settle waits until the scheduler waits on its timer with nothing in flight.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("the scheduler to settle", func() bool { return h.s.idle(hasFired) })
}

// advance lets d of awake time pass, stopping at every timer so the
// scheduler sees each moment it asked to be woken at.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	target := h.clock.Uptime() + d
	for {
		h.settle()
		at, ok := h.clock.nextDeadline(target)
		if !ok {
			h.clock.moveTo(target)
			h.settle()
			return
		}
		h.clock.moveTo(at)
	}
}

func (h *harness) kinds() []EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []EventKind
	for _, e := range h.events {
		out = append(out, e.Kind)
	}
	return out
}

func (h *harness) eventsOf(kind EventKind) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) runTimes(id int64) []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Time
	for _, c := range h.runs {
		if c.id == id {
			out = append(out, c.at)
		}
	}
	return out
}

func (h *harness) wantRuns(id int64, want ...time.Time) {
	h.t.Helper()
	got := h.runTimes(id)
	if len(got) != len(want) {
		h.t.Fatalf("database %d ran %d times (%v), want %d (%v); events %v", id, len(got), got, len(want), want, h.kinds())
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			h.t.Fatalf("database %d run %d at %s, want %s", id, i+1, got[i], want[i])
		}
	}
}

func hourly() store.ScheduleConfig {
	return store.ScheduleConfig{Kind: store.ScheduleEvery, Every: time.Hour}
}

func TestSchedulerRunsOnTimeAndRecords(t *testing.T) {
	st := newMemStore()
	st.put(1, hourly(), base.Add(10*time.Minute))
	st.put(2, daily("12:00", "UTC"), time.Time{}) // new: next run not computed yet
	h := newHarness(t, st, nil, Options{})
	h.start()
	if got := st.get(2).NextRunAt; !got.Equal(base.Add(2 * time.Hour)) {
		t.Fatalf("a new schedule's next run is %s, want %s (computed and recorded on load)", got, base.Add(2*time.Hour))
	}
	h.advance(9 * time.Minute)
	h.wantRuns(1)
	h.advance(time.Minute)
	h.wantRuns(1, base.Add(10*time.Minute))
	if sc := st.get(1); !sc.LastRunAt.Equal(base.Add(10*time.Minute)) || !sc.NextRunAt.Equal(base.Add(70*time.Minute)) {
		t.Fatalf("recorded last %s next %s", sc.LastRunAt, sc.NextRunAt)
	}
	h.advance(2 * time.Hour)
	h.wantRuns(1, base.Add(10*time.Minute), base.Add(70*time.Minute), base.Add(130*time.Minute))
	h.wantRuns(2, base.Add(2*time.Hour))
	if len(h.ready) != 0 {
		t.Fatalf("on-time runs need no readiness check: %v", h.ready)
	}
	fin := h.eventsOf(EventFinished)
	if len(fin) != 4 || fin[0].DatabaseID != 1 || fin[0].CatchUp || !fin[0].Next.Equal(base.Add(70*time.Minute)) || fin[0].Attempt != 1 {
		t.Fatalf("finished events: %+v", fin)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// A laptop asleep for three days over a daily schedule: on wake the
// scheduler notices the wall clock jump, checks the database is reachable,
// runs the backup once (not three times), and plans the next slot from now.
func TestSchedulerCatchUpAfterSleepRunsOnce(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	start := time.Date(2025, 6, 2, 1, 0, 0, 0, berlin)
	st := newMemStore()
	st.put(1, daily("02:00", "Europe/Berlin"), time.Date(2025, 6, 2, 2, 0, 0, 0, berlin))
	st.put(2, hourly(), start.Add(30*time.Minute))
	h := newHarness(t, st, newFakeClock(start), Options{})
	h.start()

	h.clock.sleep(3*24*time.Hour + 9*time.Hour) // lid closed until Thursday 10:00
	wake := time.Date(2025, 6, 5, 10, 0, 0, 0, berlin)
	h.advance(DefaultHeartbeat)
	woke := wake.Add(DefaultHeartbeat)
	if len(h.eventsOf(EventWoke)) != 1 {
		t.Fatalf("events %v, want one wake", h.kinds())
	}
	h.wantRuns(1, woke)
	h.wantRuns(2, woke)
	if len(h.ready) != 2 {
		t.Fatalf("readiness checks before the catch-ups: %v", h.ready)
	}
	for _, ev := range h.eventsOf(EventStarted) {
		if !ev.CatchUp {
			t.Fatalf("a run after sleep is a catch-up: %+v", ev)
		}
	}
	if sc := st.get(1); !sc.NextRunAt.Equal(time.Date(2025, 6, 6, 2, 0, 0, 0, berlin)) || !sc.LastRunAt.Equal(woke) {
		t.Fatalf("daily: last %s next %s", sc.LastRunAt, sc.NextRunAt)
	}
	if sc := st.get(2); !sc.NextRunAt.Equal(woke.Add(time.Hour)) {
		t.Fatalf("hourly: next %s, want an hour after the catch-up", sc.NextRunAt)
	}
	h.advance(15 * time.Hour)
	h.wantRuns(1, woke)
	h.advance(time.Hour) // Friday 02:00:30: the regular slot
	h.wantRuns(1, woke, time.Date(2025, 6, 6, 2, 0, 0, 0, berlin))
	if n := len(h.runTimes(2)); n != 17 {
		t.Fatalf("hourly ran %d times in the 16 hours after waking, want 17", n)
	}
}

// The app was closed for three days: on start, each missed schedule runs once.
func TestSchedulerCatchUpOnStart(t *testing.T) {
	st := newMemStore()
	st.put(1, hourly(), base.Add(-72*time.Hour))
	st.put(2, daily("09:00", "UTC"), base.Add(-30*time.Second)) // just late: an ordinary run
	h := newHarness(t, st, nil, Options{})
	h.start()
	h.wantRuns(1, base)
	h.wantRuns(2, base)
	if len(h.ready) != 1 || h.ready[0].id != 1 {
		t.Fatalf("readiness checked for %v, want only the missed schedule", h.ready)
	}
	if sc := st.get(1); !sc.NextRunAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("next %s", sc.NextRunAt)
	}
	h.advance(59 * time.Minute)
	h.wantRuns(1, base)
}

func TestSchedulerCatchUpJitter(t *testing.T) {
	st := newMemStore()
	st.put(1, hourly(), base.Add(-5*time.Hour))
	h := newHarness(t, st, nil, Options{Jitter: 10 * time.Minute, Rand: func(n int64) int64 { return n * 7 / 10 }})
	h.start()
	h.wantRuns(1)
	h.advance(7*time.Minute - time.Second)
	h.wantRuns(1)
	h.advance(time.Second)
	h.wantRuns(1, base.Add(7*time.Minute))
	if h.ready[0].at != base.Add(7*time.Minute) {
		t.Fatalf("readiness checked at %s, after the jitter", h.ready[0].at)
	}
}

func TestSchedulerReadyRetries(t *testing.T) {
	t.Run("reachable on the third check", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(-3*time.Hour))
		h := newHarness(t, st, nil, Options{})
		h.readyFn = func(_ context.Context, _ int64, n int) error {
			if n < 3 {
				return errors.New("dial tcp: network is unreachable")
			}
			return nil
		}
		h.start()
		h.advance(time.Minute)
		nr := h.eventsOf(EventNotReady)
		if len(nr) != 2 || !nr[0].Retry.Equal(base.Add(DefaultReadyDelay)) || !nr[1].Retry.Equal(base.Add(3*DefaultReadyDelay)) {
			t.Fatalf("not-ready events: %+v", nr)
		}
		h.wantRuns(1, base.Add(3*DefaultReadyDelay))
	})
	t.Run("never reachable: run anyway so the failure is recorded", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(-3*time.Hour))
		h := newHarness(t, st, nil, Options{ReadyAttempts: 3, ReadyDelay: time.Second})
		h.readyFn = func(context.Context, int64, int) error { return errors.New("no route to host") }
		h.run = func(context.Context, int64, int) error { return errors.New("connect: no route to host") }
		h.start()
		h.advance(time.Minute)
		if len(h.ready) != 3 {
			t.Fatalf("%d checks, want 3", len(h.ready))
		}
		h.wantRuns(1, base.Add(3*time.Second))
		f := h.eventsOf(EventFailed)
		if len(f) != 1 || f[0].Err == nil || !f[0].Next.Equal(base.Add(3*time.Second+time.Hour)) {
			t.Fatalf("failed events: %+v", f)
		}
	})
}

func TestSchedulerRetryBackoff(t *testing.T) {
	slot := base.Add(time.Minute)
	t.Run("succeeds on the third try", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), slot)
		h := newHarness(t, st, nil, Options{Attempts: 3, RetryDelay: time.Minute})
		h.run = func(_ context.Context, _ int64, n int) error {
			if n < 3 {
				return fmt.Errorf("pg_dump: server closed the connection (try %d)", n)
			}
			return nil
		}
		h.start()
		h.advance(10 * time.Minute)
		h.wantRuns(1, slot, slot.Add(time.Minute), slot.Add(3*time.Minute))
		want := []EventKind{EventStarted, EventRetrying, EventStarted, EventRetrying, EventStarted, EventFinished}
		if got := h.kinds(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if sc := st.get(1); !sc.LastRunAt.Equal(slot) || !sc.NextRunAt.Equal(slot.Add(time.Hour)) {
			t.Fatalf("last %s next %s: the next slot counts from the planned one", sc.LastRunAt, sc.NextRunAt)
		}
	})
	t.Run("every try fails: reported, and the schedule goes on", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), slot)
		h := newHarness(t, st, nil, Options{Attempts: 3, RetryDelay: time.Minute, MaxRetryDelay: 90 * time.Second})
		h.run = func(context.Context, int64, int) error { return errors.New("disk full") }
		h.start()
		h.advance(10 * time.Minute)
		h.wantRuns(1, slot, slot.Add(time.Minute), slot.Add(150*time.Second)) // second delay capped at 90s
		f := h.eventsOf(EventFailed)
		if len(f) != 1 || f[0].Attempt != 3 || f[0].Err.Error() != "disk full" || !f[0].Next.Equal(slot.Add(time.Hour)) {
			t.Fatalf("failed: %+v", f)
		}
		h.advance(time.Hour)
		if n := len(h.runTimes(1)); n != 6 {
			t.Fatalf("the next slot was tried %d times, want 3 more", n-3)
		}
	})
	t.Run("a panicking run is a failed run", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), slot)
		h := newHarness(t, st, nil, Options{})
		h.run = func(context.Context, int64, int) error { panic("boom") }
		h.start()
		h.advance(2 * time.Minute)
		if f := h.eventsOf(EventFailed); len(f) != 1 || f[0].Err == nil {
			t.Fatalf("failed: %+v", f)
		}
		h.advance(time.Hour)
		h.wantRuns(1, slot, slot.Add(time.Hour))
	})
}

func TestSchedulerConcurrencyLimit(t *testing.T) {
	st := newMemStore()
	for id := int64(1); id <= 5; id++ {
		st.put(id, hourly(), base.Add(time.Minute+time.Duration(6-id)*time.Second)) // 5 is due first
	}
	h := newHarness(t, st, nil, Options{MaxParallel: 2})
	release := make(chan struct{})
	var mu sync.Mutex
	inFlight, most, calls := 0, 0, 0
	h.run = func(_ context.Context, id int64, _ int) error {
		mu.Lock()
		inFlight++
		calls++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}
	h.start()
	h.clock.moveTo(h.clock.Uptime() + 2*time.Minute)
	running := func(n int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			h.s.mu.Lock()
			defer h.s.mu.Unlock()
			return inFlight == n && h.s.waiting && h.s.active == n
		}
	}
	h.waitFor("two runs", running(2))
	for i := 0; i < 3; i++ {
		release <- struct{}{}
		h.waitFor("a queued run to take the free place", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return calls == 3+i
		})
		h.waitFor("two runs", running(2))
	}
	release <- struct{}{}
	release <- struct{}{}
	h.settle()
	var order []int64
	for _, ev := range h.eventsOf(EventStarted) {
		order = append(order, ev.DatabaseID)
	}
	if most != 2 || !slices.Equal(order, []int64{5, 4, 3, 2, 1}) {
		t.Fatalf("at most %d at once (want 2), order %v (want the earliest slot first)", most, order)
	}
	if n := len(h.eventsOf(EventFinished)); n != 5 {
		t.Fatalf("%d finished", n)
	}
}

func TestSchedulerPauseResume(t *testing.T) {
	ctx := context.Background()
	t.Run("until resumed", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(10*time.Minute))
		h := newHarness(t, st, nil, Options{})
		h.start()
		if err := h.s.Pause(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if until, paused := h.s.Paused(); !paused || !until.IsZero() {
			t.Fatalf("Paused() = %s %v", until, paused)
		}
		if !st.paused {
			t.Fatal("the pause is not recorded in the store")
		}
		h.advance(3 * time.Hour)
		h.wantRuns(1)
		if err := h.s.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		h.settle()
		resumed := base.Add(3 * time.Hour)
		h.wantRuns(1, resumed) // three slots missed, one run
		if sc := st.get(1); !sc.NextRunAt.Equal(resumed.Add(time.Hour)) {
			t.Fatalf("next %s", sc.NextRunAt)
		}
		want := []EventKind{EventPaused, EventResumed, EventStarted, EventFinished}
		if got := h.kinds(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
	t.Run("for a while", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(10*time.Minute))
		h := newHarness(t, st, nil, Options{})
		h.start()
		if err := h.s.Pause(ctx, 30*time.Minute); err != nil {
			t.Fatal(err)
		}
		h.advance(30*time.Minute - time.Second)
		h.wantRuns(1)
		h.advance(time.Second)
		h.wantRuns(1, base.Add(30*time.Minute))
		if _, paused := h.s.Paused(); paused || st.paused {
			t.Fatal("the pause did not end")
		}
	})
	t.Run("paused by another process", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(10*time.Minute))
		st.paused = true
		h := newHarness(t, st, nil, Options{})
		h.start()
		h.advance(2 * time.Hour)
		h.wantRuns(1)
		st.SetSchedulesPaused(ctx, time.Time{}, false) // `pgsafe schedule resume` elsewhere
		h.advance(DefaultHeartbeat)
		h.wantRuns(1, base.Add(2*time.Hour+DefaultHeartbeat))
	})
}

func openRealStore(t *testing.T, path string, mk *keys.MasterKey) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), path, mk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The bookkeeping lives in the settings database: a restarted scheduler
// neither runs a slot again nor forgets one that was missed while it was
// down.
func TestSchedulerPersistsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), store.FileName)
	st := openRealStore(t, path, mk)
	id, err := st.CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "localhost", Port: 5432, DBName: "shop", User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSchedule(ctx, id, store.ScheduleConfig{Enabled: true, Kind: store.ScheduleEvery, Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkScheduleRun(ctx, id, time.Time{}, base.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// First life: one run.
	h1 := newHarness(t, st, nil, Options{})
	h1.start()
	h1.advance(20 * time.Minute)
	h1.wantRuns(id, base.Add(10*time.Minute))
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Second life, after a quick restart: nothing is due yet.
	st = openRealStore(t, path, mk)
	defer st.Close()
	sc, err := st.Schedule(ctx, id)
	if err != nil || !sc.LastRunAt.Equal(base.Add(10*time.Minute)) || !sc.NextRunAt.Equal(base.Add(70*time.Minute)) {
		t.Fatalf("after restart: last %s next %s (%v)", sc.LastRunAt, sc.NextRunAt, err)
	}
	h2 := newHarness(t, st, newFakeClock(base.Add(30*time.Minute)), Options{})
	h2.start()
	h2.wantRuns(id)
	h2.advance(40 * time.Minute)
	h2.wantRuns(id, base.Add(70*time.Minute))
	if err := h2.stop(); err != nil {
		t.Fatal(err)
	}

	// Third life, after a day switched off: the missed slots run once.
	later := base.Add(26 * time.Hour)
	h3 := newHarness(t, st, newFakeClock(later), Options{})
	h3.start()
	h3.wantRuns(id, later)
	if got := h3.eventsOf(EventStarted); len(got) != 1 || !got[0].CatchUp {
		t.Fatalf("started: %+v", got)
	}
	h3.advance(59 * time.Minute)
	h3.wantRuns(id, later)
	if err := h3.stop(); err != nil {
		t.Fatal(err)
	}
	if sc, _ := st.Schedule(ctx, id); !sc.LastRunAt.Equal(later) || !sc.NextRunAt.Equal(later.Add(time.Hour)) {
		t.Fatalf("recorded last %s next %s", sc.LastRunAt, sc.NextRunAt)
	}
}

func TestSchedulerStopGrace(t *testing.T) {
	slot := base.Add(time.Minute)
	setup := func(t *testing.T) (*harness, *memStore, chan struct{}) {
		st := newMemStore()
		st.put(1, hourly(), slot)
		h := newHarness(t, st, nil, Options{Grace: 2 * time.Minute})
		release := make(chan struct{})
		h.run = func(ctx context.Context, _ int64, _ int) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return fmt.Errorf("backup cancelled: %w", context.Cause(ctx))
			}
		}
		h.start()
		h.clock.moveTo(h.clock.Uptime() + time.Minute)
		h.waitFor("the run", func() bool { return len(h.runTimes(1)) == 1 })
		h.cancel()
		h.waitFor("the grace period", func() bool {
			h.s.mu.Lock()
			defer h.s.mu.Unlock()
			return h.s.stopping && h.s.waiting && h.s.active == 1
		})
		return h, st, release
	}
	t.Run("the backup finishes within the grace period", func(t *testing.T) {
		h, st, release := setup(t)
		h.clock.moveTo(h.clock.Uptime() + time.Minute)
		release <- struct{}{}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		if sc := st.get(1); !sc.NextRunAt.Equal(slot.Add(time.Hour)) {
			t.Fatalf("next %s", sc.NextRunAt)
		}
		if got := h.kinds(); !slices.Equal(got, []EventKind{EventStarted, EventFinished}) {
			t.Fatalf("events %v", got)
		}
	})
	t.Run("the backup is cancelled after it", func(t *testing.T) {
		h, st, _ := setup(t)
		h.mu.Lock()
		runCtx := h.runs[0].ctx
		h.mu.Unlock()
		h.clock.moveTo(h.clock.Uptime() + time.Minute)
		if runCtx.Err() != nil {
			t.Fatal("cancelled before the grace period was over")
		}
		h.clock.moveTo(h.clock.Uptime() + time.Minute)
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		if runCtx.Err() == nil {
			t.Fatal("the run's context was not cancelled")
		}
		c := h.eventsOf(EventCancelled)
		if len(c) != 1 || c[0].Err == nil {
			t.Fatalf("events %v", h.kinds())
		}
		// Not served: the next start catches it up.
		if sc := st.get(1); !sc.NextRunAt.Equal(slot) || !sc.LastRunAt.IsZero() {
			t.Fatalf("last %s next %s", sc.LastRunAt, sc.NextRunAt)
		}
	})
}

func TestSchedulerStoreFailures(t *testing.T) {
	t.Run("unreadable store", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(10*time.Minute))
		st.loadErr = errors.New("database is locked")
		h := newHarness(t, st, nil, Options{})
		h.start()
		h.advance(5 * time.Minute)
		if e := h.eventsOf(EventError); len(e) != 1 {
			t.Fatalf("errors reported %d times, want once: %v", len(e), h.kinds())
		}
		st.mu.Lock()
		st.loadErr = nil
		st.mu.Unlock()
		h.advance(10 * time.Minute)
		h.wantRuns(1, base.Add(10*time.Minute))
	})
	t.Run("unwritable store", func(t *testing.T) {
		st := newMemStore()
		st.put(1, hourly(), base.Add(10*time.Minute))
		h := newHarness(t, st, nil, Options{})
		h.start()
		st.mu.Lock()
		st.markErr = errors.New("disk I/O error")
		st.mu.Unlock()
		h.advance(15 * time.Minute)
		h.wantRuns(1, base.Add(10*time.Minute))
		if e := h.eventsOf(EventError); len(e) != 1 || e[0].DatabaseID != 1 {
			t.Fatalf("events %v", h.kinds())
		}
		// The store still says the slot is due; the scheduler knows better.
		h.advance(2 * time.Minute)
		h.wantRuns(1, base.Add(10*time.Minute))
		st.mu.Lock()
		st.markErr = nil
		st.mu.Unlock()
		h.advance(DefaultHeartbeat)
		if sc := st.get(1); !sc.NextRunAt.Equal(base.Add(70*time.Minute)) || !sc.LastRunAt.Equal(base.Add(10*time.Minute)) {
			t.Fatalf("written later: last %s next %s", sc.LastRunAt, sc.NextRunAt)
		}
	})
}

func TestSchedulerScheduleChangesWhileRunning(t *testing.T) {
	st := newMemStore()
	st.put(1, hourly(), base.Add(time.Minute))
	st.put(2, hourly(), base.Add(time.Minute))
	h := newHarness(t, st, nil, Options{Attempts: 3, RetryDelay: 10 * time.Minute})
	h.run = func(_ context.Context, id int64, _ int) error {
		if id == 1 {
			return errors.New("server is starting up")
		}
		return nil
	}
	h.start()
	h.advance(2 * time.Minute)
	// Database 1 waits for its retry; the user changes its schedule, and
	// clears database 2's.
	st.put(1, daily("18:00", "UTC"), base.Add(8*time.Hour))
	st.mu.Lock()
	delete(st.scheds, 2)
	st.mu.Unlock()
	h.s.Reload()
	h.advance(7 * time.Hour)
	h.wantRuns(1, base.Add(time.Minute)) // the old schedule's retry was dropped
	h.wantRuns(2, base.Add(time.Minute))
	h.advance(time.Hour)
	h.wantRuns(1, base.Add(time.Minute), base.Add(8*time.Hour))
}

func TestSchedulerClockSetBack(t *testing.T) {
	st := newMemStore()
	st.put(1, hourly(), base.Add(time.Minute))
	h := newHarness(t, st, nil, Options{})
	h.start()
	h.advance(2 * time.Minute)
	h.clock.sleep(-2 * time.Hour) // the clock is set back two hours
	h.advance(time.Hour)
	h.wantRuns(1, base.Add(time.Minute)) // no second run of the same slot
	if len(h.eventsOf(EventWoke)) != 0 {
		t.Fatal("a clock set back is no wake")
	}
	h.advance(2 * time.Hour)
	h.wantRuns(1, base.Add(time.Minute), base.Add(61*time.Minute))
}

func TestNewNeedsStoreAndRun(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a store and run function")
	}
	if got := backoff(time.Minute, 5, 10*time.Minute); got != 10*time.Minute {
		t.Fatalf("backoff capped: %s", got)
	}
	if got := backoff(time.Minute, 3, time.Hour); got != 4*time.Minute {
		t.Fatalf("backoff: %s", got)
	}
}
