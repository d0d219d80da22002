package tray

import (
	"errors"
	"sync"
)

// ErrMainThreadGone is what MainThread.Do returns once Run has returned:
// nothing runs on the main thread any more.
var ErrMainThreadGone = errors.New("the main thread is no longer lent out (the agent is stopping)")

// MainThread lends the process's main OS thread to the tray. On macOS
// AppKit's run loop ([NSApp run], which fyne.io/systray's Run enters) must
// run there, and only the main goroutine is on it: fyne.io/systray locks it
// to the main thread in an init function (runtime.LockOSThread), as Wails
// does. So the program's main goroutine calls Run: the rest of the program
// (body) goes on on another goroutine, and the main goroutine runs what Do
// hands it until body returns.
//
// NeedsMainThread says whether this platform's tray needs one. Elsewhere the
// tray starts from any goroutine and no MainThread is made.
type MainThread struct {
	calls chan mainCall
	done  chan struct{}
	once  sync.Once
}

type mainCall struct {
	fn       func()
	finished chan error // nil once fn ran; ErrMainThreadGone if it did not
}

// NewMainThread returns a MainThread; Run lends the thread.
func NewMainThread() *MainThread {
	return &MainThread{calls: make(chan mainCall), done: make(chan struct{})}
}

// Run runs body on a new goroutine and, on the calling goroutine, the
// functions Do sends, one at a time, until body returns; then it returns
// body's error. Call it from the main goroutine. A function running when
// body returns is waited for (the tray's stop ends systray's run loop
// before the agent's body returns).
func (m *MainThread) Run(body func() error) error {
	result := make(chan error, 1)
	go func() {
		defer m.once.Do(func() { close(m.done) })
		result <- body()
	}()
	for {
		select {
		case c := <-m.calls:
			select {
			case <-m.done: // body returned meanwhile: run nothing more
				c.finished <- ErrMainThreadGone
				return <-result
			default:
			}
			func() {
				defer close(c.finished)
				c.fn()
			}()
		case <-m.done:
			return <-result
		}
	}
}

// Do runs fn on the main thread and returns when it has returned, or
// ErrMainThreadGone without running it when Run has returned (or returns
// before fn's turn comes).
func (m *MainThread) Do(fn func()) error {
	c := mainCall{fn: fn, finished: make(chan error, 1)}
	select {
	case m.calls <- c:
	case <-m.done:
		return ErrMainThreadGone
	}
	return <-c.finished
}
