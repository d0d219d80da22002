//go:build !linux && !windows && !(darwin && cgo)

package tray

import (
	"errors"
	"runtime"
	"time"
)

// Probe says whether this build can show a tray icon: not here. On macOS
// that is a build without cgo (GOOS=darwin CGO_ENABLED=0, as the cross
// checks on Linux build it): the menu bar icon is fyne.io/systray's
// Objective-C, so the agent runs without it and says why in its log. The
// release workflow builds PgSafe for macOS with cgo (docs/PACKAGING.md).
func Probe(wait time.Duration) Availability {
	if runtime.GOOS == "darwin" {
		return Availability{Reason: "this build of PgSafe has no menu bar icon: it was built without cgo"}
	}
	return Availability{Reason: "PgSafe cannot show a tray icon on this system"}
}

// NeedsMainThread is false: there is no tray to lend it to.
func NeedsMainThread() bool { return false }

func (t *Tray) start() error { return errors.New("no tray icon in this build") }

func (t *Tray) stop() {}

// FirstInstance is true here: there is no tray to defer to another's.
func FirstInstance(name string, timeout time.Duration) bool { return true }

type builtMenu struct{}

func (t *Tray) applyMenu(old *builtMenu, m []entry) *builtMenu { return old }

func setIcon(State) {}

func setTooltip(string) {}

func menuOpened() <-chan struct{} { return nil }
