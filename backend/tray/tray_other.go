//go:build !linux && !windows

package tray

import (
	"errors"
	"time"
)

// Probe says whether this desktop can show a tray icon. Not yet on macOS: the
// NSStatusItem must be created on the main thread, which Wails v2 owns
// ([NSApp run]), and fyne.io/systray's darwin backend replaces the
// application delegate Wails installs, so starting it from OnStartup crashes
// or breaks Wails' window handling.
//
// TODO(macOS): create the status item from Wails' main thread (a small cgo
// dispatch_async onto the main queue, building the NSStatusItem and NSMenu
// without touching the delegate), then reuse the menu model in tray.go.
func Probe(wait time.Duration) Availability {
	return Availability{Reason: "PgSafe cannot show a tray icon on this system yet"}
}

func (t *Tray) start() error { return errors.New("no tray icon on this system yet") }

func (t *Tray) stop() {}

// FirstInstance is true here: Wails' SingleInstanceLock on macOS stops a
// second instance before its startup runs.
func FirstInstance(name string, timeout time.Duration) bool { return true }

type builtMenu struct{}

func (t *Tray) applyMenu(old *builtMenu, m []entry) *builtMenu { return old }

func setIcon(State) {}

func setTooltip(string) {}

func menuOpened() <-chan struct{} { return nil }
