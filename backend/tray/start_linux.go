package tray

import (
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	watcherIface = "org.kde.StatusNotifierWatcher"
)

// registerWait bounds how long Start waits for the tray host to list the icon.
const registerWait = 5 * time.Second

// Probe says whether this desktop can show a tray icon: on Linux, whether a
// StatusNotifierWatcher with a registered host is on the D-Bus session bus.
// If wait > 0 it waits up to that long for one to appear (at login, PgSafe
// may start before the panel that hosts the tray). It never starts a bus.
func Probe(wait time.Duration) Availability {
	conn, err := sessionBus()
	if err != nil {
		return Availability{Reason: "no D-Bus session bus (" + err.Error() + "), so no tray icon can be shown"}
	}
	defer conn.Close()
	deadline := time.Now().Add(wait)
	for {
		av := probe(conn)
		if av.Available || !time.Now().Before(deadline) {
			return av
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sessionBus opens a private connection to the session bus without
// auto-launching one (godbus would otherwise start a bus of its own).
func sessionBus() (*dbus.Conn, error) {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, err
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func probe(conn *dbus.Conn) Availability {
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has); err != nil {
		return Availability{Reason: "cannot ask the D-Bus session bus for a tray: " + err.Error()}
	}
	if !has {
		return Availability{Reason: "this desktop has no system tray: nothing provides " + watcherName +
			" on the D-Bus session bus (on GNOME, the AppIndicator extension adds one)"}
	}
	v, err := conn.Object(watcherName, watcherPath).GetProperty(watcherIface + ".IsStatusNotifierHostRegistered")
	if err != nil {
		return Availability{Reason: "the tray watcher does not answer: " + err.Error()}
	}
	if ok, _ := v.Value().(bool); !ok {
		return Availability{Reason: "a tray watcher runs but no tray host (panel) is registered with it"}
	}
	return Availability{Available: true}
}

// registered reports whether the watcher lists an item of the connection
// named unique (entries are "service" or "service/path").
func registered(conn *dbus.Conn, unique string) (bool, error) {
	v, err := conn.Object(watcherName, watcherPath).GetProperty(watcherIface + ".RegisteredStatusNotifierItems")
	if err != nil {
		return false, err
	}
	items, _ := v.Value().([]string)
	wellKnown := fmt.Sprintf("org.kde.StatusNotifierItem-%d-", os.Getpid())
	for _, it := range items {
		if it == unique || strings.HasPrefix(it, unique+"/") || strings.HasPrefix(it, wellKnown) {
			return true, nil
		}
	}
	return false, nil
}

// start exports the StatusNotifierItem and its dbusmenu on the session bus
// (fyne.io/systray's shared connection) and waits until the watcher lists
// it. D-Bus needs no particular thread, so this runs beside Wails' GTK loop.
func (t *Tray) start() error {
	systray.SetTitle(t.opts.Title) // also the item's Id
	systray.SetIcon(icon(Idle))
	systray.SetTooltip(t.opts.Title)
	// A left click opens the window; the host shows the menu on a right click.
	systray.SetOnTapped(func() { go t.app.OpenWindow() })
	start, end := systray.RunWithExternalLoop(t.onReady, nil)
	t.end = end
	start()

	shared, err := dbus.SessionBus() // the connection systray exported on
	if err != nil {
		return fmt.Errorf("the tray icon cannot use the D-Bus session bus: %w", err)
	}
	names := shared.Names()
	if len(names) == 0 {
		return fmt.Errorf("the tray icon's D-Bus connection has no name")
	}
	conn, err := sessionBus()
	if err != nil {
		return fmt.Errorf("checking the tray icon: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(registerWait)
	for {
		ok, err := registered(conn, names[0])
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("the tray host did not list PgSafe's icon: %w", err)
			}
			return fmt.Errorf("the tray host did not list PgSafe's icon within %s", registerWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop unexports the item and closes systray's connection. systray panics
// if it never connected; that must not take the app down on its way out.
func (t *Tray) stop() {
	defer func() { _ = recover() }()
	if t.end != nil {
		t.end()
	}
}

// FirstInstance reports whether this process holds the D-Bus name that an
// instance lock (Wails' SingleInstanceLock) takes, waiting up to timeout for
// someone to hold it. A second instance, which is about to hand over to the
// first and exit, gets false and should not show a tray icon. With no bus, or
// nobody holding the name by then, it is true: there is no one to defer to.
func FirstInstance(name string, timeout time.Duration) bool {
	conn, err := sessionBus()
	if err != nil {
		return true
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	for {
		var owner string
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner); err == nil {
			var pid uint32
			if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, owner).Store(&pid); err != nil {
				return true
			}
			return int(pid) == os.Getpid()
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// NeedsMainThread is false on Linux: the tray talks D-Bus from any goroutine.
func NeedsMainThread() bool { return false }
