package schedule

import "time"

// Clock is the scheduler's time. Production uses RealClock; tests a fake one
// they move by hand.
type Clock interface {
	// Now is the wall clock: what schedules are written in. It may jump
	// (the machine slept, the clock was set).
	Now() time.Time
	// Uptime is a monotonic clock: it never jumps and, like the operating
	// systems' monotonic clocks, does not count time asleep. The difference
	// between the two is how the scheduler notices a wake from sleep.
	Uptime() time.Duration
	// NewTimer fires once after d of Uptime.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it already fired or was
	// stopped.
	Stop() bool
}

// RealClock is the machine's clock: Go's wall clock, its monotonic clock
// (CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS, the unbiased
// interrupt time on Windows: none counts sleep), and runtime timers.
func RealClock() Clock { return realClock{start: time.Now()} }

type realClock struct{ start time.Time }

func (realClock) Now() time.Time                 { return time.Now() }
func (c realClock) Uptime() time.Duration        { return time.Since(c.start) }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }
func (t realTimer) C() <-chan time.Time          { return t.t.C }
func (t realTimer) Stop() bool                   { return t.t.Stop() }

type realTimer struct{ t *time.Timer }
