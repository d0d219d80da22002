package tray

import (
	"fmt"
	"runtime"
	"time"

	"fyne.io/systray"
)

// Probe says whether this desktop can show a tray icon. Windows always has a
// notification area.
func Probe(wait time.Duration) Availability { return Availability{Available: true} }

// start runs the tray on an OS thread of its own. Windows delivers a window's
// messages to the thread that created it: systray.Run creates the tray's
// hidden window and then runs the message loop on the same, locked, thread.
// (systray.RunWithExternalLoop would run the loop on another goroutine and
// the menu would not react: fyne-io/systray#67.) Wails' own window keeps the
// main thread.
//
// Not exercised on Windows yet: built with GOOS=windows only.
func (t *Tray) start() error {
	systray.SetOnTapped(func() { go t.app.OpenWindow() })
	ready := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		systray.Run(func() {
			systray.SetTitle(t.opts.Title)
			t.onReady()
			close(ready)
		}, nil)
	}()
	select {
	case <-ready:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the tray icon did not start within 10 s")
	}
}

// stop ends the tray's message loop, which removes the icon.
func (t *Tray) stop() { systray.Quit() }

// FirstInstance is true on Windows: Wails' SingleInstanceLock there stops a
// second instance before its startup runs the tray.
func FirstInstance(name string, timeout time.Duration) bool { return true }

// NeedsMainThread is false on Windows: the tray runs its message loop on a
// locked thread of its own.
func NeedsMainThread() bool { return false }
