//go:build darwin && cgo

package tray

/*
#include <pthread.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"fyne.io/systray"
)

// Probe says whether this session can show a menu bar icon: a graphical
// login (launchd's Aqua session), not an ssh session or a background
// daemon's, where AppKit has no window server to draw in.
func Probe(wait time.Duration) Availability {
	out, err := exec.Command("/bin/launchctl", "managername").Output()
	if err != nil {
		return Availability{Available: true} // cannot tell: try
	}
	return aquaSession(strings.TrimSpace(string(out)))
}

// NeedsMainThread is true on macOS: AppKit's run loop, where the status
// item lives, must run on the process's main thread (Options.Main).
func NeedsMainThread() bool { return true }

// start runs fyne.io/systray's own run loop (systray.Run: it makes its
// application delegate and enters [NSApp run]) on the main thread that
// Options.Main lends, and waits until the status item is up and the first
// menu is built. The agent process has no Wails, so the delegate is
// systray's alone. The icon is the coloured state icon (PNG, drawn at 16
// points); a click shows the menu, as menu bar items do (no OnTapped:
// "Open PgSafe" is in the menu). No SetTitle: on macOS it writes the title
// as text beside the icon.
func (t *Tray) start() error {
	if t.opts.Main == nil {
		return errors.New("the menu bar icon needs the main thread, and none was lent to it (tray.Options.Main)")
	}
	ready := make(chan struct{})
	ended := make(chan error, 1)
	offMain := false
	go func() {
		ended <- t.opts.Main.Do(func() {
			if C.pthread_main_np() == 0 {
				offMain = true // AppKit would abort the process
				return
			}
			systray.Run(func() {
				t.onReady()
				close(ready)
			}, nil)
		})
	}()
	select {
	case <-ready:
		t.end = systray.Quit
		return nil
	case err := <-ended:
		if offMain {
			return errors.New("the menu bar icon was started off the main thread: tray.MainThread.Run must be called from the main goroutine")
		}
		if err != nil {
			return fmt.Errorf("the menu bar icon did not start: %w", err)
		}
		return errors.New("the menu bar icon's run loop ended as it started")
	case <-time.After(10 * time.Second):
		// Quit (stop) still ends the loop if it comes up later.
		t.end = systray.Quit
		return errors.New("the menu bar icon did not start within 10 s")
	}
}

// stop ends systray's run loop ([NSApp stop:]), which removes the status
// item and gives the main thread back.
func (t *Tray) stop() {
	if t.end != nil {
		t.end()
	}
}

// FirstInstance is true on macOS: one agent per settings directory is the
// agent's lock; the window's SingleInstanceLock is Wails'.
func FirstInstance(name string, timeout time.Duration) bool { return true }
