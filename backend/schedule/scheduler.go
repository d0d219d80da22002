package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Store is where the scheduler reads the schedules and keeps its
// bookkeeping, so that it survives restarts; *store.Store satisfies it.
type Store interface {
	Schedules(ctx context.Context) ([]store.Schedule, error)
	// MarkScheduleRun records when database id last ran (zero: leave as is)
	// and runs next (zero: unknown); an ErrNotFound error when it has no
	// schedule any more.
	MarkScheduleRun(ctx context.Context, databaseID int64, lastRun, nextRun time.Time) error
}

// PauseStore may be implemented by a Store to keep a pause across restarts
// and share it with other processes (the app and `pgsafe run`). Without it a
// pause lasts as long as the Scheduler.
type PauseStore interface {
	// SchedulesPaused says whether schedules are paused and until when
	// (zero: until resumed). A pause whose end has passed is no pause.
	SchedulesPaused(ctx context.Context) (until time.Time, paused bool, err error)
	SetSchedulesPaused(ctx context.Context, until time.Time, paused bool) error
}

// Defaults of Options' zero values.
const (
	DefaultMaxParallel   = 1
	DefaultAttempts      = 1
	DefaultRetryDelay    = time.Minute
	DefaultMaxRetryDelay = time.Hour
	DefaultReadyAttempts = 6
	DefaultReadyDelay    = 5 * time.Second
	DefaultLateness      = time.Minute
	DefaultHeartbeat     = 30 * time.Second
	DefaultJump          = time.Minute
	DefaultGrace         = time.Minute
)

// Options configure a Scheduler. Zero values take the defaults above.
type Options struct {
	Store Store
	// Run makes the scheduled backup of a database; its error fails the try.
	Run func(ctx context.Context, databaseID int64) error
	// Ready checks, before a catch-up run, that the database can be reached
	// (after a wake from sleep the network takes a moment); nil: always.
	// After ReadyAttempts failed checks the run goes ahead anyway, so that
	// the failure is recorded with its reason rather than lost.
	Ready func(ctx context.Context, databaseID int64) error
	Clock Clock // nil: RealClock()

	MaxParallel int // backups at once
	// Attempts is how many times a slot's run is tried (1: no retries).
	Attempts int
	// RetryDelay is the wait before the first retry; it doubles with each
	// further retry, up to MaxRetryDelay.
	RetryDelay, MaxRetryDelay time.Duration
	// ReadyAttempts and ReadyDelay: the Ready checks before a catch-up run
	// (the delay doubles like RetryDelay).
	ReadyAttempts int
	ReadyDelay    time.Duration
	// Jitter delays each catch-up run by a random time below it, so that
	// the schedules missed during a sleep do not all start in the same
	// second. Zero: no jitter.
	Jitter time.Duration
	// Lateness: a slot run later than this counts as missed (a catch-up run,
	// checked with Ready first).
	Lateness time.Duration
	// Heartbeat is how often the schedules are read again and the wall
	// clock is compared with the monotonic one.
	Heartbeat time.Duration
	// Jump is the difference between wall-clock and monotonic time taken as
	// a wake from sleep (or the clock being set).
	Jump time.Duration
	// Grace is how long a backup in flight may finish once Run's context is
	// cancelled; then it is cancelled. Negative: cancel at once.
	Grace time.Duration

	// OnEvent is told what happens; it is called from the scheduler's
	// goroutine and must return quickly.
	OnEvent func(Event)
	// Label names a database in messages; nil: "database ID".
	Label func(databaseID int64) string
	Log   *slog.Logger
	// Rand returns a random number in [0, n) for the jitter; nil: math/rand.
	Rand func(n int64) int64
}

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	EventStarted   EventKind = "started"   // a try of a slot began (Attempt)
	EventFinished  EventKind = "finished"  // the run succeeded; Next is the next run
	EventRetrying  EventKind = "retrying"  // a try failed (Err); the next try starts at Retry
	EventFailed    EventKind = "failed"    // the slot's last try failed (Err); the schedule goes on at Next
	EventCancelled EventKind = "cancelled" // a run in flight was cancelled by the scheduler stopping; it runs again on the next start
	EventNotReady  EventKind = "not_ready" // the database could not be reached before a catch-up (Err); checked again at Retry, or run anyway when Retry is zero
	EventWoke      EventKind = "woke"      // the wall clock jumped ahead (sleep): missed schedules run once now
	EventPaused    EventKind = "paused"    // schedules paused until Next (zero: until resumed)
	EventResumed   EventKind = "resumed"
	EventError     EventKind = "error" // the scheduler itself hit a problem (Err); it goes on and tries again
)

// Event is one thing the scheduler did or met.
type Event struct {
	Kind       EventKind
	At         time.Time
	DatabaseID int64     // 0 for scheduler-wide events
	Slot       time.Time // the scheduled time the run is for
	CatchUp    bool      // the slot was missed (asleep, app closed) and runs late, once
	Attempt    int       // 1 for the first try
	Next       time.Time // the schedule's next run (finished, failed), or the end of a pause
	Retry      time.Time // when the next try or check starts (retrying, not_ready)
	Err        error
	Message    string // the event in words
}

// Scheduler runs due schedules. Create it with New, run it with Run.
type Scheduler struct {
	opts  Options
	clock Clock
	log   *slog.Logger
	wake  chan struct{}

	mu         sync.Mutex
	running    bool
	paused     bool
	pauseUntil time.Time
	reload     bool
	// for tests: whether the loop is blocked waiting (on timer), the runs
	// in flight, and nudges sent and seen
	waiting            bool
	stopping           bool
	timer              Timer
	active             int
	nudges, seenNudges uint64
}

// New checks opts and fills in the defaults.
func New(opts Options) (*Scheduler, error) {
	if opts.Store == nil || opts.Run == nil {
		return nil, errors.New("schedule: a Scheduler needs a Store and a Run function")
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = DefaultMaxParallel
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.ReadyAttempts <= 0 {
		opts.ReadyAttempts = DefaultReadyAttempts
	}
	def(&opts.RetryDelay, DefaultRetryDelay)
	def(&opts.MaxRetryDelay, DefaultMaxRetryDelay)
	def(&opts.ReadyDelay, DefaultReadyDelay)
	def(&opts.Lateness, DefaultLateness)
	def(&opts.Heartbeat, DefaultHeartbeat)
	def(&opts.Jump, DefaultJump)
	def(&opts.Grace, DefaultGrace)
	if opts.Clock == nil {
		opts.Clock = RealClock()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Rand == nil {
		opts.Rand = rand.Int64N
	}
	if opts.Label == nil {
		opts.Label = func(id int64) string { return fmt.Sprintf("database %d", id) }
	}
	return &Scheduler{opts: opts, clock: opts.Clock, log: opts.Log, wake: make(chan struct{}, 1)}, nil
}

// Reload has the scheduler read the schedules again now (after one was
// set or cleared) rather than at its next heartbeat.
func (s *Scheduler) Reload() {
	s.mu.Lock()
	s.reload = true
	s.mu.Unlock()
	s.nudge()
}

func (s *Scheduler) nudge() {
	s.mu.Lock()
	s.nudges++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Pause stops new runs for d (d <= 0: until Resume). Runs in flight go on.
// Slots that fall in the pause are missed: on resume each such schedule
// runs once, as after a sleep.
func (s *Scheduler) Pause(ctx context.Context, d time.Duration) error {
	var until time.Time
	if d > 0 {
		until = s.clock.Now().Add(d)
	}
	if ps, ok := s.opts.Store.(PauseStore); ok {
		if err := ps.SetSchedulesPaused(ctx, until, true); err != nil {
			return fmt.Errorf("pause the schedules: %w", err)
		}
	}
	s.setPause(true, until)
	return nil
}

// Resume ends a pause.
func (s *Scheduler) Resume(ctx context.Context) error {
	if ps, ok := s.opts.Store.(PauseStore); ok {
		if err := ps.SetSchedulesPaused(ctx, time.Time{}, false); err != nil {
			return fmt.Errorf("resume the schedules: %w", err)
		}
	}
	s.setPause(false, time.Time{})
	return nil
}

// Paused says whether schedules are paused, and until when (zero: until
// resumed).
func (s *Scheduler) Paused() (until time.Time, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expirePause(s.clock.Now())
	return s.pauseUntil, s.paused
}

// setPause records the pause; the loop reports the change.
func (s *Scheduler) setPause(paused bool, until time.Time) {
	s.mu.Lock()
	changed := paused != s.paused || !until.Equal(s.pauseUntil)
	s.paused, s.pauseUntil = paused, until
	s.mu.Unlock()
	if changed {
		s.nudge()
	}
}

// expirePause ends a pause whose time is over; s.mu is held.
func (s *Scheduler) expirePause(now time.Time) (ended bool) {
	if s.paused && !s.pauseUntil.IsZero() && !now.Before(s.pauseUntil) {
		s.paused, s.pauseUntil = false, time.Time{}
		return true
	}
	return false
}

func (s *Scheduler) emit(ev Event) {
	if ev.At.IsZero() {
		ev.At = s.clock.Now()
	}
	attrs := []any{"event", string(ev.Kind)}
	if ev.DatabaseID != 0 {
		attrs = append(attrs, "database_id", ev.DatabaseID)
	}
	if ev.Attempt > 0 {
		attrs = append(attrs, "attempt", ev.Attempt)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
	}
	switch ev.Kind {
	case EventRetrying, EventFailed, EventNotReady, EventError, EventCancelled:
		s.log.Warn(ev.Message, attrs...)
	default:
		s.log.Info(ev.Message, attrs...)
	}
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(ev)
	}
}

// idle reports, for tests, whether the loop waits with nothing in flight and
// nothing sent to it; fired says whether a timer has fired.
func (s *Scheduler) idle(fired func(Timer) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting && s.active == 0 && s.seenNudges == s.nudges && (s.timer == nil || !fired(s.timer))
}

// setWaiting records, for tests, that the loop waits on t (nil: it does not
// wait) with active runs in flight.
func (s *Scheduler) setWaiting(t Timer, active int) {
	s.mu.Lock()
	s.waiting, s.timer, s.active = t != nil, t, active
	s.mu.Unlock()
}

// entry is the scheduler's view of one database's schedule.
type entry struct {
	id     int64
	sched  store.Schedule // as last read
	loaded bool
	next   time.Time // zero: none (disabled, or the schedule is invalid)
	badAt  time.Time // UpdatedAt of a schedule whose next run cannot be computed (reported once)

	// a due slot being worked on
	due        bool
	slot       time.Time
	catchUp    bool
	needReady  bool
	readyTries int
	attempt    int
	notBefore  time.Time
	firstStart time.Time
	running    bool
	removed    bool // the schedule was cleared while its run was in flight

	// bookkeeping not yet written to the store
	unsaved       bool
	lastRun       time.Time
	saveFailedMsg bool
}

type result struct {
	id    int64
	ready bool // a Ready check, not a run
	err   error
}

type loop struct {
	s        *Scheduler
	ctx      context.Context // the scheduler's: cancelled means stop starting
	runCtx   context.Context // the runs': cancelled after the grace period
	entries  map[int64]*entry
	results  chan result
	active   int
	stopping bool

	lastWall         time.Time
	lastMono         time.Duration
	reloadMono       time.Duration
	loadedOnce       bool
	paused           bool // the pause as last reported
	pauseUntil       time.Time
	reportedLoadFail bool
}

// Run runs the schedules until ctx is cancelled. Then it starts nothing
// new, gives the runs in flight Options.Grace to finish, cancels the rest
// (their Run sees its context cancelled), writes its bookkeeping and returns
// nil. Problems on the way (the store unreadable, a run failing) are
// reported as events and retried; they never end Run.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("schedule: this Scheduler is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	now := s.clock.Now()
	l := &loop{s: s, ctx: ctx, runCtx: runCtx, entries: map[int64]*entry{}, results: make(chan result),
		lastWall: now, lastMono: s.clock.Uptime()}
	for {
		l.step(s.clock.Now())
		if ctx.Err() != nil {
			return l.stop(cancelRuns)
		}
		t := s.clock.NewTimer(l.wait(s.clock.Now()))
		s.setWaiting(t, l.active)
		select {
		case <-ctx.Done():
		case r := <-l.results:
			s.setWaiting(nil, l.active)
			l.handle(r)
		case <-t.C():
		case <-s.wake:
		}
		t.Stop()
		s.setWaiting(nil, l.active)
	}
}

// step notices clock jumps, rereads the schedules when due, writes pending
// bookkeeping, marks due slots and starts what may start.
func (l *loop) step(now time.Time) {
	s := l.s
	mono := s.clock.Uptime()
	jump := now.Round(0).Sub(l.lastWall.Round(0)) - (mono - l.lastMono)
	l.lastWall, l.lastMono = now, mono
	woke := false
	s.mu.Lock()
	reload := s.reload || !l.loadedOnce || mono >= l.reloadMono
	s.reload, s.seenNudges = false, s.nudges
	s.mu.Unlock()
	switch {
	case jump > s.opts.Jump:
		woke, reload = true, true
		s.emit(Event{Kind: EventWoke, At: now, Message: fmt.Sprintf(
			"the wall clock moved %s further than the monotonic clock: the machine slept (or the clock was set); missed schedules run once now",
			jump.Round(time.Second))})
	case jump < -s.opts.Jump:
		reload = true
		s.log.Warn("the wall clock was set back; next runs stay as planned", "by", (-jump).Round(time.Second))
	}
	if reload {
		l.reload(now)
		l.reloadMono = mono + s.opts.Heartbeat
	}
	l.flush()

	s.mu.Lock()
	ended := s.expirePause(now)
	paused, until := s.paused, s.pauseUntil
	s.mu.Unlock()
	if ended {
		if ps, ok := s.opts.Store.(PauseStore); ok {
			if err := ps.SetSchedulesPaused(context.WithoutCancel(l.ctx), time.Time{}, false); err != nil {
				s.log.Warn("could not record the end of a pause", "err", err)
			}
		}
	}
	if paused != l.paused || !until.Equal(l.pauseUntil) {
		l.paused, l.pauseUntil = paused, until
		switch {
		case paused && until.IsZero():
			s.emit(Event{Kind: EventPaused, At: now, Message: "schedules paused until resumed"})
		case paused:
			s.emit(Event{Kind: EventPaused, At: now, Next: until, Message: "schedules paused until " + until.Format(time.DateTime+" MST")})
		default:
			s.emit(Event{Kind: EventResumed, At: now, Message: "schedules resumed: slots missed during the pause run once now"})
		}
	}
	if paused || l.ctx.Err() != nil {
		return
	}
	for _, e := range l.sorted() {
		if e.due || e.next.IsZero() || e.next.After(now) || !e.sched.Enabled {
			continue
		}
		e.due, e.slot, e.attempt, e.readyTries, e.firstStart = true, e.next, 0, 0, time.Time{}
		e.catchUp = woke || now.Sub(e.next) > s.opts.Lateness
		e.needReady = e.catchUp && s.opts.Ready != nil
		e.notBefore = now
		if e.catchUp && s.opts.Jitter > 0 {
			e.notBefore = now.Add(time.Duration(s.opts.Rand(int64(s.opts.Jitter))))
		}
	}
	var ready []*entry
	for _, e := range l.entries {
		if e.due && !e.running && !e.notBefore.After(now) {
			ready = append(ready, e)
		}
	}
	slices.SortFunc(ready, func(a, b *entry) int {
		if c := a.slot.Compare(b.slot); c != 0 {
			return c
		}
		return int(a.id - b.id)
	})
	for _, e := range ready {
		if l.active >= s.opts.MaxParallel {
			break
		}
		l.start(e)
	}
}

func (l *loop) sorted() []*entry {
	out := make([]*entry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return int(a.id - b.id) })
	return out
}

// wait is how long the loop may sleep: until the next slot, retry or end of
// pause, and at most a heartbeat.
func (l *loop) wait(now time.Time) time.Duration {
	s := l.s
	d := s.opts.Heartbeat
	s.mu.Lock()
	paused, until := s.paused, s.pauseUntil
	s.mu.Unlock()
	if paused {
		if !until.IsZero() {
			d = min(d, until.Sub(now))
		}
		return max(d, 0)
	}
	for _, e := range l.entries {
		switch {
		case !e.due && !e.next.IsZero() && e.sched.Enabled:
			d = min(d, e.next.Sub(now))
		case e.due && !e.running && e.notBefore.After(now):
			d = min(d, e.notBefore.Sub(now))
		}
	}
	return max(d, 0)
}

// reload reads the schedules; the store is the truth, except for
// bookkeeping of ours not yet written and runs in flight.
func (l *loop) reload(now time.Time) {
	s := l.s
	list, err := s.opts.Store.Schedules(l.ctx)
	if err != nil {
		if l.ctx.Err() != nil {
			return
		}
		if !l.reportedLoadFail {
			l.reportedLoadFail = true
			s.emit(Event{Kind: EventError, At: now, Err: err, Message: fmt.Sprintf(
				"could not read the schedules (%v); the scheduler keeps the ones it knows and tries again every %s", err, human.Duration(s.opts.Heartbeat))})
		}
		return
	}
	l.reportedLoadFail, l.loadedOnce = false, true
	if ps, ok := s.opts.Store.(PauseStore); ok {
		until, paused, err := ps.SchedulesPaused(l.ctx)
		if err != nil {
			s.log.Warn("could not read whether schedules are paused; keeping the current state", "err", err)
		} else {
			if paused && !until.IsZero() && !now.Before(until) {
				// Over while nobody watched: record its end.
				paused, until = false, time.Time{}
				if err := ps.SetSchedulesPaused(context.WithoutCancel(l.ctx), until, false); err != nil {
					s.log.Warn("could not record the end of a pause", "err", err)
				}
			}
			s.setPause(paused, until)
		}
	}
	seen := map[int64]bool{}
	for _, sc := range list {
		seen[sc.DatabaseID] = true
		e := l.entries[sc.DatabaseID]
		if e == nil {
			e = &entry{id: sc.DatabaseID}
			l.entries[sc.DatabaseID] = e
		}
		changed := e.loaded && (!sc.UpdatedAt.Equal(e.sched.UpdatedAt) || !reflect.DeepEqual(sc.ScheduleConfig, e.sched.ScheduleConfig))
		e.sched, e.loaded = sc, true
		if e.running {
			continue // its next run is computed, with this config, when it ends
		}
		if changed {
			e.due = false // a changed schedule drops a pending retry of the old one
		}
		if e.due || (e.unsaved && !changed) {
			continue
		}
		switch {
		case !sc.Enabled:
			e.next = time.Time{}
		case sc.NextRunAt.IsZero() || (e.unsaved && changed):
			n, err := Next(sc.ScheduleConfig, now)
			if err != nil {
				e.next = time.Time{}
				if !e.badAt.Equal(sc.UpdatedAt) {
					e.badAt = sc.UpdatedAt
					s.emit(Event{Kind: EventError, At: now, DatabaseID: e.id, Err: err, Message: fmt.Sprintf(
						"the schedule of %s (%s) cannot run: %v", s.opts.Label(e.id), Describe(sc.ScheduleConfig), err)})
				}
				continue
			}
			e.next, e.unsaved = n, true
		default:
			e.next = sc.NextRunAt
		}
	}
	for id, e := range l.entries {
		if !seen[id] {
			if e.running {
				e.removed = true
			} else {
				delete(l.entries, id)
			}
		}
	}
}

// flush writes the bookkeeping not yet written; a failure is reported once
// and tried again at the next step.
func (l *loop) flush() {
	for _, e := range l.sorted() {
		if !e.unsaved {
			continue
		}
		err := l.s.opts.Store.MarkScheduleRun(context.WithoutCancel(l.ctx), e.id, e.lastRun, e.next)
		switch {
		case err == nil:
			e.unsaved, e.lastRun, e.saveFailedMsg = false, time.Time{}, false
		case errors.Is(err, store.ErrNotFound):
			delete(l.entries, e.id) // the schedule was cleared
		default:
			if !e.saveFailedMsg {
				e.saveFailedMsg = true
				l.s.emit(Event{Kind: EventError, DatabaseID: e.id, Err: err, Message: fmt.Sprintf(
					"could not record the last and next run of %s (%v); the scheduler keeps them in memory and tries again", l.s.opts.Label(e.id), err)})
			}
		}
	}
}

// start begins a Ready check or a try of e's slot.
func (l *loop) start(e *entry) {
	s := l.s
	e.running = true
	l.active++
	id := e.id
	if e.needReady {
		go func() {
			err := protect(func() error { return s.opts.Ready(l.ctx, id) })
			l.results <- result{id: id, ready: true, err: err}
		}()
		return
	}
	e.attempt++
	now := s.clock.Now()
	if e.firstStart.IsZero() {
		e.firstStart = now
	}
	msg := fmt.Sprintf("scheduled backup of %s started (slot %s", s.opts.Label(id), e.slot.Format(time.DateTime+" MST"))
	if e.catchUp {
		msg += ", missed: catching up once"
	}
	if e.attempt > 1 {
		msg += fmt.Sprintf(", try %d of %d", e.attempt, s.opts.Attempts)
	}
	s.emit(Event{Kind: EventStarted, At: now, DatabaseID: id, Slot: e.slot, CatchUp: e.catchUp, Attempt: e.attempt, Message: msg + ")"})
	go func() {
		err := protect(func() error { return s.opts.Run(l.runCtx, id) })
		l.results <- result{id: id, err: err}
	}()
}

// protect turns a panic into an error: a bug in one run must not stop the
// schedules.
func protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn()
}

// handle takes the result of a Ready check or a try.
func (l *loop) handle(r result) {
	s := l.s
	l.active--
	e := l.entries[r.id]
	if e == nil {
		return
	}
	e.running = false
	now := s.clock.Now()
	if e.removed {
		delete(l.entries, e.id)
		return
	}
	ev := Event{At: now, DatabaseID: e.id, Slot: e.slot, CatchUp: e.catchUp, Attempt: e.attempt, Err: r.err}
	if r.ready {
		if r.err == nil || l.ctx.Err() != nil {
			e.needReady = false
			return
		}
		e.readyTries++
		ev.Kind = EventNotReady
		if e.readyTries >= s.opts.ReadyAttempts {
			e.needReady = false
			ev.Message = fmt.Sprintf("%s is still not reachable after %d checks (%v); backing up anyway so that the failure is recorded",
				s.opts.Label(e.id), e.readyTries, r.err)
		} else {
			e.notBefore = now.Add(backoff(s.opts.ReadyDelay, e.readyTries, s.opts.MaxRetryDelay))
			ev.Retry = e.notBefore
			ev.Message = fmt.Sprintf("%s is not reachable yet (%v); checking again in %s before its catch-up backup",
				s.opts.Label(e.id), r.err, e.notBefore.Sub(now).Round(time.Second))
		}
		s.emit(ev)
		return
	}
	switch {
	case r.err == nil:
		l.done(e, now, nil)
	case l.stopping || l.ctx.Err() != nil:
		// Stopping: no retry, and the slot stays unserved in the store, so
		// the next start catches it up.
		e.due = false
		ev.Kind, ev.Next = EventCancelled, e.slot
		ev.Message = fmt.Sprintf("scheduled backup of %s ended by the scheduler stopping (%v); it runs when the scheduler next starts", s.opts.Label(e.id), r.err)
		if l.runCtx.Err() == nil {
			ev.Kind = EventFailed
			ev.Message = fmt.Sprintf("scheduled backup of %s failed while the scheduler was stopping (%v); it runs again when the scheduler next starts", s.opts.Label(e.id), r.err)
		}
		s.emit(ev)
	case e.attempt < s.opts.Attempts:
		e.notBefore = now.Add(backoff(s.opts.RetryDelay, e.attempt, s.opts.MaxRetryDelay))
		ev.Kind, ev.Retry = EventRetrying, e.notBefore
		ev.Message = fmt.Sprintf("scheduled backup of %s failed (try %d of %d): %v; trying again in %s",
			s.opts.Label(e.id), e.attempt, s.opts.Attempts, r.err, e.notBefore.Sub(now).Round(time.Second))
		s.emit(ev)
	default:
		l.done(e, now, r.err)
	}
}

// done ends e's slot, good or failed: the next run is computed and recorded.
// After a catch-up the next slot counts from when it ran, so missed slots
// run once; a run that overran its next slot skips it.
func (l *loop) done(e *entry, now time.Time, runErr error) {
	s := l.s
	base := e.slot
	if e.catchUp {
		base = e.firstStart
	}
	cfg := e.sched.ScheduleConfig
	next, err := Next(cfg, base)
	if err == nil && !next.After(now) {
		next, err = Next(cfg, now)
	}
	if err != nil || !cfg.Enabled {
		next = time.Time{}
	}
	e.due, e.next, e.lastRun, e.unsaved = false, next, e.firstStart, true
	l.flush()
	nextText := "none"
	if !next.IsZero() {
		nextText = next.Format(time.DateTime + " MST")
	}
	ev := Event{At: now, DatabaseID: e.id, Slot: e.slot, CatchUp: e.catchUp, Attempt: e.attempt, Next: next, Err: runErr}
	if runErr == nil {
		ev.Kind = EventFinished
		ev.Message = fmt.Sprintf("scheduled backup of %s finished; next run %s", s.opts.Label(e.id), nextText)
	} else {
		ev.Kind = EventFailed
		tries := ""
		if e.attempt > 1 {
			tries = fmt.Sprintf(" %d times", e.attempt)
		}
		ev.Message = fmt.Sprintf("scheduled backup of %s failed%s: %v; the schedule goes on, next run %s",
			s.opts.Label(e.id), tries, runErr, nextText)
	}
	s.emit(ev)
	if err != nil {
		s.emit(Event{Kind: EventError, At: now, DatabaseID: e.id, Err: err, Message: fmt.Sprintf(
			"the next run of %s cannot be computed: %v", s.opts.Label(e.id), err)})
	}
}

// stop lets the runs in flight finish within the grace period, then cancels
// them, and writes the bookkeeping.
func (l *loop) stop(cancelRuns context.CancelFunc) error {
	s := l.s
	l.stopping = true
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	if l.active > 0 {
		grace := s.opts.Grace
		if grace < 0 {
			grace = 0
		}
		s.log.Info("stopping: runs in flight may finish", "runs", l.active, "grace", grace)
		t := s.clock.NewTimer(grace)
		defer t.Stop()
		for l.active > 0 {
			s.setWaiting(t, l.active)
			select {
			case r := <-l.results:
				s.setWaiting(nil, l.active)
				l.handle(r)
			case <-t.C():
				s.setWaiting(nil, l.active)
				s.log.Warn("the grace period is over: cancelling the backups still running", "runs", l.active)
				cancelRuns()
			}
		}
	}
	s.setWaiting(nil, 0)
	l.flush()
	return nil
}

// backoff is base doubled for each try after the first, at most limit.
func backoff(base time.Duration, try int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < try && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
