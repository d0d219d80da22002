package ui

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
)

// TestStopWindsDownWork: quitting cancels work the user started and waits
// for it to wind down; events after that are dropped, not sent to a window
// that is going away.
func TestStopWindsDownWork(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	c := NewCore(nil)
	var sent atomic.Int32
	c.SetEmitter(func(string, any) { sent.Add(1) })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, done := c.work()
	var wound atomic.Bool
	go func() {
		<-ctx.Done() // the work sees the quit…
		time.Sleep(100 * time.Millisecond)
		c.emit("backup:finished", nil) // …and says so, too late for the window
		wound.Store(true)
		done()
	}()
	before := sent.Load()
	c.Stop()
	if !wound.Load() {
		t.Fatal("Stop returned before the work wound down")
	}
	if sent.Load() != before {
		t.Fatal("an event was sent after Stop began")
	}
	if _, err := c.engine(); err == nil {
		t.Fatal("the engine is still open after Stop")
	}
}
