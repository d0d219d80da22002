//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keys

import (
	"fmt"
	"os"
	"path/filepath"
)

// keychainMissingReason reports a machine without a D-Bus session bus before
// go-keyring is called: godbus would otherwise try to autolaunch a bus with
// dbus-launch, leaving a stray daemon behind on a headless server.
func keychainMissingReason() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	for _, f := range []string{"bus", "dbus-session"} { // where godbus looks next
		if _, err := os.Stat(filepath.Join(userRuntimeDir(), f)); err == nil {
			return ""
		}
	}
	return "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set"
}

// userRuntimeDir is where godbus looks for the session bus when
// DBUS_SESSION_BUS_ADDRESS is unset (a variable for tests).
var userRuntimeDir = func() string { return fmt.Sprintf("/run/user/%d", os.Getuid()) }
