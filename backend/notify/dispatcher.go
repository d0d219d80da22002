package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Dispatcher defaults.
const (
	DefaultQueueSize      = 100
	DefaultAttemptTimeout = 90 * time.Second
)

// DefaultBackoff is the production retry policy: a delivery is tried once
// and then retried after 2 s, 10 s and 60 s (four attempts in all).
func DefaultBackoff() []time.Duration {
	return []time.Duration{2 * time.Second, 10 * time.Second, 60 * time.Second}
}

var (
	// ErrDropped: the delivery waited in a full queue and made room for a
	// newer event.
	ErrDropped = errors.New("notification dropped: too many were waiting for this notifier")
	// ErrClosed: Close gave up on the delivery (its context ended first).
	ErrClosed = errors.New("notification abandoned: PgSafe was shutting down")
)

// Options configure a Dispatcher. The zero value is the production policy.
type Options struct {
	// Backoff is the wait before each retry: a delivery is tried
	// 1+len(Backoff) times. nil means DefaultBackoff(); an empty non-nil
	// slice means no retry.
	Backoff []time.Duration
	// AttemptTimeout bounds one attempt (default DefaultAttemptTimeout; the
	// kinds have shorter limits of their own).
	AttemptTimeout time.Duration
	// QueueSize is how many events may wait per notifier (default
	// DefaultQueueSize). When full, the oldest is dropped with a warning.
	QueueSize int
	// Log receives failures and drops (default slog.Default()). Messages
	// name the notifier, its kind and the event, never a secret.
	Log *slog.Logger
	// OnResult, when set, is called once per delivery when it is settled:
	// delivered, given up after the last attempt, dropped, or abandoned at
	// Close. It runs on the notifier's delivery goroutine (never inside
	// Notify): keep it short.
	OnResult func(Result)
}

// Result is the outcome of one event's delivery to one notifier.
type Result struct {
	Notifier string // the notifier's name
	Kind     string // the notifier's kind
	Event    Event
	Attempts int   // attempts made (0 when dropped or abandoned before any)
	Err      error // nil when delivered; else ErrDropped, ErrClosed, or the last attempt's error
}

// Dispatcher delivers events to notifiers in the background. Each notifier
// has its own queue and goroutine, so a slow or failing one delays no other.
// Its methods are safe for concurrent use.
type Dispatcher struct {
	opts   Options
	log    *slog.Logger
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc

	mu      sync.Mutex
	workers []*worker // current notifiers
	all     map[*worker]bool
	closed  bool
	wg      sync.WaitGroup
}

type worker struct {
	n       Notifier
	queue   []Event  // guarded by Dispatcher.mu
	drops   []Result // dropped, not yet reported; guarded by Dispatcher.mu
	lost    int      // drops beyond what drops holds
	retired bool     // Replace took it out: finish the queue, then exit
	wake    chan struct{}
}

// NewDispatcher starts delivering to notifiers (see FromConfigs).
func NewDispatcher(notifiers []Notifier, opts Options) *Dispatcher {
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff()
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	d := &Dispatcher{opts: opts, log: opts.Log, all: map[*worker]bool{}}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replace(notifiers)
	return d
}

// Replace swaps in a new set of notifiers (after settings changed). Events
// waiting for a notifier whose name is in the new set move to the new one
// (if it still wants them); a notifier that is gone finishes what is
// waiting for it with its old settings.
func (d *Dispatcher) Replace(notifiers []Notifier) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.replace(notifiers)
}

func (d *Dispatcher) replace(notifiers []Notifier) {
	old := map[string]*worker{}
	for _, w := range d.workers {
		old[w.n.Name()] = w
		w.retired = true
		w.poke()
	}
	d.workers = nil
	for _, n := range notifiers {
		w := &worker{n: n, wake: make(chan struct{}, 1)}
		if o := old[n.Name()]; o != nil {
			for _, ev := range o.queue {
				if takes(n, ev) {
					w.queue = append(w.queue, ev)
				}
			}
			o.queue = nil
		}
		d.workers = append(d.workers, w)
		d.all[w] = true
		d.wg.Add(1)
		go d.run(w)
	}
}

// takes says whether n is to deliver ev: it wants its kind and is of its
// audience.
func takes(n Notifier, ev Event) bool { return n.Wants(ev.Kind) && reaches(ev.Audience, n.Kind()) }

// Notify queues ev for every notifier that wants it and returns at once; it
// never waits for a delivery. A zero At is set to now.
func (d *Dispatcher) Notify(ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	ev.Fields = maps.Clone(ev.Fields) // the caller may reuse its map
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.log.Warn("notification not sent: notifications are shut down", "event", ev.Kind, "database", ev.Database)
		return
	}
	for _, w := range d.workers {
		if !takes(w.n, ev) {
			continue
		}
		if len(w.queue) >= d.opts.QueueSize {
			oldest := w.queue[0]
			w.queue = w.queue[1:]
			d.log.Warn("notification dropped: too many waiting for this notifier",
				"notifier", w.n.Name(), "kind", w.n.Kind(), "event", oldest.Kind, "database", oldest.Database,
				"waiting", d.opts.QueueSize)
			if len(w.drops) < d.opts.QueueSize {
				w.drops = append(w.drops, Result{Notifier: w.n.Name(), Kind: w.n.Kind(), Event: oldest, Err: ErrDropped})
			} else {
				w.lost++
			}
		}
		w.queue = append(w.queue, ev)
		w.poke()
	}
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close stops taking events and waits until every queued event is settled
// (delivered or given up) or ctx ends. Then it cancels what is still under
// way and returns an error saying how many deliveries it abandoned; their
// results (ErrClosed) still reach OnResult as the goroutines wind down.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for w := range d.all {
			w.poke()
		}
	}
	d.mu.Unlock()

	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
	}
	d.mu.Lock()
	pending := 0
	for w := range d.all {
		pending += len(w.queue) + 1 // + the one under way (an upper bound)
	}
	d.mu.Unlock()
	d.cancel()
	return fmt.Errorf("closing notifications: gave up on up to %d deliveries: %w", pending, ctx.Err())
}

// run is a notifier's delivery goroutine.
func (d *Dispatcher) run(w *worker) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		drops, lost := w.drops, w.lost
		w.drops, w.lost = nil, 0
		var ev Event
		have := len(w.queue) > 0
		if have {
			ev = w.queue[0]
			w.queue[0] = Event{}
			w.queue = w.queue[1:]
		}
		exit := !have && (w.retired || d.closed)
		if exit {
			delete(d.all, w)
		}
		d.mu.Unlock()

		for _, r := range drops {
			d.report(r)
		}
		if lost > 0 {
			d.log.Warn("more notifications dropped than reported", "notifier", w.n.Name(), "kind", w.n.Kind(), "count", lost)
		}
		switch {
		case exit:
			return
		case have && d.ctx.Err() != nil:
			d.report(Result{Notifier: w.n.Name(), Kind: w.n.Kind(), Event: ev, Err: ErrClosed})
		case have:
			d.deliver(w.n, ev)
		default:
			select {
			case <-w.wake:
			case <-d.ctx.Done():
			}
		}
	}
}

// deliver tries ev on n until it succeeds, the attempts run out or Close
// gives up, and reports the result.
func (d *Dispatcher) deliver(n Notifier, ev Event) {
	res := Result{Notifier: n.Name(), Kind: n.Kind(), Event: ev}
	logArgs := []any{"notifier", n.Name(), "kind", n.Kind(), "event", ev.Kind, "database", ev.Database}
	for {
		res.Attempts++
		res.Err = d.attempt(n, ev)
		if res.Err == nil {
			d.log.Debug("notification delivered", append(logArgs, "attempts", res.Attempts)...)
			break
		}
		if d.ctx.Err() != nil {
			res.Err = fmt.Errorf("%w: %v", ErrClosed, res.Err)
			break
		}
		if res.Attempts > len(d.opts.Backoff) {
			d.log.Error("notification failed; giving up", append(logArgs, "attempts", res.Attempts, "error", res.Err.Error())...)
			break
		}
		wait := d.opts.Backoff[res.Attempts-1]
		d.log.Warn("notification failed; will retry", append(logArgs, "attempt", res.Attempts, "retry_in", wait, "error", res.Err.Error())...)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-d.ctx.Done():
			t.Stop()
			res.Err = fmt.Errorf("%w: %v", ErrClosed, res.Err)
		}
		break
	}
	d.report(res)
}

// attempt is one Send, bounded by AttemptTimeout; a panic is an error.
func (d *Dispatcher) attempt(n Notifier, ev Event) (err error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.AttemptTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s notifier %q panicked: %v", n.Kind(), n.Name(), p)
		}
	}()
	return n.Send(ctx, ev)
}

func (d *Dispatcher) report(r Result) {
	if d.opts.OnResult != nil {
		d.opts.OnResult(r)
	}
}
