package testenv

import "testing"

// SessionBus starts a private D-Bus session bus (dbus-daemon with its own
// config, no service activation) on which nothing owns any well-known name,
// points DBUS_SESSION_BUS_ADDRESS (and HOME, XDG_DATA_HOME, XDG_CONFIG_HOME,
// XDG_RUNTIME_DIR) at it for the rest of the test, and stops it at cleanup.
// It returns the bus's address. Tests register the services they need on it
// themselves (e.g. a stand-in org.freedesktop.Notifications). Tests that use
// it cannot run in parallel (t.Setenv).
func SessionBus(t testing.TB) string {
	t.Helper()
	return startBus(t).BusAddress
}
