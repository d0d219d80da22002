package schedule

import (
	"sync"
	"time"
)

// fakeClock is a Clock moved by hand. Advance moves both clocks (time
// awake); Sleep moves only the wall clock, as a suspended laptop sees it:
// the monotonic clock and its timers stand still.
type fakeClock struct {
	mu     sync.Mutex
	wall   time.Time
	mono   time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Duration
	ch    chan time.Time
	fired bool
	done  bool // fired or stopped
}

func newFakeClock(wall time.Time) *fakeClock { return &fakeClock{wall: wall, mono: time.Hour} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *fakeClock) Uptime() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.mono + d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.fire(c.wall)
	} else {
		c.timers = append(c.timers, t)
	}
	return t
}

func (t *fakeTimer) fire(now time.Time) {
	t.fired, t.done = true, true
	t.ch <- now
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	select { // like Go 1.23 timers: no stale value after Stop
	case <-t.ch:
	default:
	}
	return was
}

// hasFired is for Scheduler.idle.
func hasFired(t Timer) bool {
	ft := t.(*fakeTimer)
	ft.c.mu.Lock()
	defer ft.c.mu.Unlock()
	return ft.fired
}

// nextDeadline is the earliest pending timer's deadline, if any is at or
// before limit.
func (c *fakeClock) nextDeadline(limit time.Duration) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	best, ok := limit, false
	for _, t := range c.timers {
		if !t.done && t.at <= best {
			best, ok = t.at, true
		}
	}
	return best, ok
}

// moveTo sets the monotonic clock to mono (wall clock along) and fires the
// timers due.
func (c *fakeClock) moveTo(mono time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mono > c.mono {
		c.wall = c.wall.Add(mono - c.mono)
		c.mono = mono
	}
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case t.at <= c.mono:
			t.fire(c.wall)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

// sleep moves the wall clock only (the machine was suspended).
func (c *fakeClock) sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = c.wall.Add(d)
}
