package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/restore"
)

// Job event types: what the engine's one event stream carries. Every job
// (backup, verify, drill, restore), whatever started it (the window, the
// tray, a schedule, a drill rule), is started, makes progress and finishes
// here; a database whose state may have changed gets a status.changed with
// its new state. A face subscribes once and needs nothing else to stay
// current.
const (
	EventJobStarted    = "job.started"
	EventJobProgress   = "job.progress"
	EventJobFinished   = "job.finished"
	EventStatusChanged = "status.changed"
)

// Job kinds.
const (
	JobBackup  = "backup"
	JobVerify  = "verify"
	JobDrill   = "drill"
	JobRestore = "restore"
)

// JobEvent is one event of the stream.
type JobEvent struct {
	Type     string    `json:"type"`          // one of the Event* constants
	Job      string    `json:"job,omitempty"` // one of the Job* constants (job.* events)
	JobID    string    `json:"jobId,omitempty"`
	Database string    `json:"database,omitempty"`
	Origin   string    `json:"origin,omitempty"` // manual, scheduled, tray, drill rule…
	At       time.Time `json:"at"`

	// job.progress of a backup.
	Backup *backup.Progress `json:"backup,omitempty"`
	// job.progress of a verify, drill or restore.
	Restore *restore.Progress `json:"restore,omitempty"`

	// job.finished: succeeded, partial, failed or cancelled, and why.
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`

	// status.changed: the database's state now.
	Status *DatabaseStatus `json:"status,omitempty"`
}

// eventStream fans the stream out to subscribers.
type eventStream struct {
	mu   sync.Mutex
	next int
	subs map[int]func(JobEvent)
}

// Subscribe calls fn with every event from now on, in order, until the
// returned function is called. fn runs on the engine's goroutine: it must
// return quickly (hand the event to a channel or an emitter).
func (e *Engine) Subscribe(fn func(JobEvent)) (unsubscribe func()) {
	e.stream.mu.Lock()
	defer e.stream.mu.Unlock()
	if e.stream.subs == nil {
		e.stream.subs = map[int]func(JobEvent){}
	}
	id := e.stream.next
	e.stream.next++
	e.stream.subs[id] = fn
	return func() {
		e.stream.mu.Lock()
		defer e.stream.mu.Unlock()
		delete(e.stream.subs, id)
	}
}

// publish sends ev to every subscriber. Subscribers are called one after
// another under the lock, so each sees the events in the order published.
func (e *Engine) publish(ev JobEvent) {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	e.stream.mu.Lock()
	defer e.stream.mu.Unlock()
	for _, fn := range e.stream.subs {
		fn(ev)
	}
}

// subscribed says whether anyone listens (the status is only computed for
// a status.changed someone will read).
func (e *Engine) subscribed() bool {
	e.stream.mu.Lock()
	defer e.stream.mu.Unlock()
	return len(e.stream.subs) > 0
}

// StatusChanged publishes the state of the named database ("" for every
// one) as it is now. The engine calls it after everything that can change a
// state; the faces call it after changes the engine cannot see (a health
// monitor's result, a setting they saved).
func (e *Engine) StatusChanged(ctx context.Context, name string) {
	if !e.subscribed() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	all, err := e.Status(ctx, name)
	if errors.Is(err, ErrNotFound) { // removed: a status.changed without a status
		e.publish(JobEvent{Type: EventStatusChanged, Database: name})
		return
	}
	if err != nil {
		e.log.Warn("status after a change", "database", name, "err", err)
		return
	}
	for i := range all.Databases {
		e.publish(JobEvent{Type: EventStatusChanged, Database: all.Databases[i].Name, Status: &all.Databases[i]})
	}
}

// jobFinished publishes the end of a job, then the database's new state.
func (e *Engine) jobFinished(ctx context.Context, ev JobEvent, err error) {
	ev.Type = EventJobFinished
	if ev.Outcome == "" {
		ev.Outcome = "succeeded"
	}
	if err != nil {
		ev.Outcome, ev.Error = "failed", err.Error()
		if isCancel(err) {
			ev.Outcome = "cancelled"
		}
	}
	e.publish(ev)
	e.StatusChanged(ctx, ev.Database)
}

// isCancel says whether err is a job stopped on purpose (the user cancelled,
// the app quit) rather than a failure.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled)
}

// OriginDrillRule is the origin of a drill a database's drill policy ran.
const OriginDrillRule = "drill rule"

type originKey struct{}

// WithOrigin says what started the jobs run under ctx ("tray", "drill
// rule"…) for their events; without it a job is "manual".
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// OriginOf is the origin WithOrigin set, or "manual".
func OriginOf(ctx context.Context) string {
	if o, ok := ctx.Value(originKey{}).(string); ok && o != "" {
		return o
	}
	return "manual"
}
