package tray

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// goid is the calling goroutine's number, from its stack's first line
// ("goroutine 7 [running]:").
func goid(t *testing.T) uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	if len(f) < 2 {
		t.Fatalf("cannot read the goroutine's number from %q", buf)
	}
	id, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// What Do hands over runs on the goroutine that called Run (the main one,
// in the agent), while body runs elsewhere; Run returns body's error.
func TestMainThreadRunsDoOnRunsGoroutine(t *testing.T) {
	m := NewMainThread()
	main := goid(t)
	var inBody, inDo uint64
	want := errors.New("body's error")
	err := m.Run(func() error {
		inBody = goid(t)
		if err := m.Do(func() { inDo = goid(t) }); err != nil {
			t.Errorf("Do: %v", err)
		}
		return want
	})
	if err != want {
		t.Errorf("Run returned %v, want body's error", err)
	}
	if inDo != main {
		t.Errorf("Do ran on goroutine %d, want Run's (%d)", inDo, main)
	}
	if inBody == main {
		t.Errorf("body ran on Run's goroutine %d: it must leave it to Do", main)
	}
}

// Once Run has returned, Do runs nothing (a tray starting late must not
// enter a run loop nobody ends).
func TestMainThreadDoAfterRun(t *testing.T) {
	m := NewMainThread()
	if err := m.Run(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	ran := false
	if err := m.Do(func() { ran = true }); !errors.Is(err, ErrMainThreadGone) {
		t.Errorf("Do after Run: %v, want ErrMainThreadGone", err)
	}
	if ran {
		t.Error("Do ran its function after Run returned")
	}
}

// A function running on the main thread when body returns (systray's run
// loop, until the tray's stop ends it) is waited for.
func TestMainThreadWaitsForTheRunningCall(t *testing.T) {
	m := NewMainThread()
	started, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	go func() {
		<-m.done // body has returned
		close(release)
	}()
	err := m.Run(func() error {
		go m.Do(func() {
			close(started)
			<-release
			finished.Store(true)
		})
		<-started
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Run returned while the call on the main thread was still running")
	}
}
