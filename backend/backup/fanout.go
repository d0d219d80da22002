package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// fanout writes one stream to every target's Put at once. Each target reads
// its own pipe in its own goroutine; a write returns when every live target
// has taken the bytes (back-pressure: the slowest storage sets the pace).
//
// A target whose Put fails (or stalls, see watch) is dropped and the others go
// on: with three storages, a broken network to one of them still leaves two
// good copies. Only when no target is left does the stream fail.
type fanout struct {
	sinks []*sink
}

// sink is one target's end of the fan-out.
type sink struct {
	target Target
	pw     *io.PipeWriter
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when Put returned
	n      atomic.Int64  // bytes taken by the storage
	// busySince is when the current write to this target began (unix nanos),
	// 0 when idle: the stall watch uses it to name a storage that stopped
	// reading.
	busySince atomic.Int64

	mu  sync.Mutex
	err error // why this target does not hold the backup
}

// newFanout starts a Put of object on every target.
func newFanout(ctx context.Context, targets []Target, object string) *fanout {
	f := &fanout{}
	for _, t := range targets {
		pr, pw := io.Pipe()
		tctx, cancel := context.WithCancelCause(ctx)
		s := &sink{target: t, pw: pw, cancel: cancel, done: make(chan struct{})}
		f.sinks = append(f.sinks, s)
		go func() {
			defer close(s.done)
			err := t.Storage.Put(tctx, object, pr)
			if err != nil {
				if cause := context.Cause(tctx); cause != nil && !errors.Is(cause, context.Canceled) {
					err = cause // e.g. a stall: says more than "context canceled"
				}
				s.fail(&StorageError{Storage: t.Name, Err: err})
			}
			pr.CloseWithError(errOr(s.failure(), errors.New("the storage stopped reading")))
		}()
	}
	return f
}

func (s *sink) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *sink) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// drop gives up on a target: its Put is cancelled with err (leaving nothing).
func (s *sink) drop(err error) {
	s.fail(err)
	s.cancel(err)
	s.pw.CloseWithError(err)
}

func (f *fanout) live() []*sink {
	var out []*sink
	for _, s := range f.sinks {
		if s.failure() == nil {
			out = append(out, s)
		}
	}
	return out
}

// Write hands p to every live target, in parallel.
func (f *fanout) Write(p []byte) (int, error) {
	live := f.live()
	if len(live) == 0 {
		return 0, f.noneLeft()
	}
	var wg sync.WaitGroup
	for _, s := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.busySince.Store(time.Now().UnixNano())
			n, err := s.pw.Write(p)
			s.busySince.Store(0)
			s.n.Add(int64(n))
			if err != nil {
				s.fail(err) // the pipe carries the Put's own error
			}
		}()
	}
	wg.Wait()
	if len(f.live()) == 0 {
		return 0, f.noneLeft()
	}
	return len(p), nil
}

// noneLeft is the stream's error once every target failed.
func (f *fanout) noneLeft() error {
	var errs []error
	for _, s := range f.sinks {
		errs = append(errs, s.failure())
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("no storage could take the backup: %w", errors.Join(errs...))
}

// finish ends the stream: with err == nil each live Put sees a clean end and
// completes; otherwise every Put is cancelled. It waits for every Put.
func (f *fanout) finish(err error) {
	for _, s := range f.sinks {
		if err != nil {
			s.drop(err)
		} else {
			s.pw.Close()
		}
	}
	for _, s := range f.sinks {
		<-s.done
	}
}

// stalled reports a live target whose current write has waited longer than d.
func (f *fanout) stalled(now time.Time, d time.Duration) *sink {
	for _, s := range f.live() {
		if since := s.busySince.Load(); since != 0 && now.Sub(time.Unix(0, since)) > d {
			return s
		}
	}
	return nil
}

// bytes is what each target has taken so far.
func (f *fanout) progress() []StorageProgress {
	out := make([]StorageProgress, len(f.sinks))
	for i, s := range f.sinks {
		out[i] = StorageProgress{ID: s.target.ID, Name: s.target.Name, Bytes: s.n.Load()}
		if err := s.failure(); err != nil {
			out[i].Error = err.Error()
		}
	}
	return out
}
