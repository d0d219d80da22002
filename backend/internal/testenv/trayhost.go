package testenv

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// The tray host's side of StatusNotifierItem, for tests of the tray: a
// minimal org.kde.StatusNotifierWatcher standing in for the panel, and the
// com.canonical.dbusmenu reads and clicks a panel makes.

const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherIface = "org.kde.StatusNotifierWatcher"
	ItemIface    = "org.kde.StatusNotifierItem"
	MenuIface    = "com.canonical.dbusmenu"
)

// DialBus connects to the bus at addr until the test ends.
func DialBus(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TrayWatcher is a minimal org.kde.StatusNotifierWatcher: it records who
// registers which item, as a panel's watcher does.
type TrayWatcher struct {
	Conn  *dbus.Conn
	Props *prop.Properties

	mu         sync.Mutex
	items      []string // "service" or "sender/path", as KDE's watcher lists them
	senders    []string
	registered chan string // each item as it registers
}

// RegisterStatusNotifierItem is the D-Bus method an item calls.
func (w *TrayWatcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := service
	if strings.HasPrefix(service, "/") {
		item = string(sender) + service
	}
	w.mu.Lock()
	w.items = append(w.items, item)
	w.senders = append(w.senders, string(sender))
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.Props.SetMust(WatcherIface, "RegisteredStatusNotifierItems", items)
	w.Conn.Emit(WatcherPath, WatcherIface+".StatusNotifierItemRegistered", item)
	select {
	case w.registered <- string(sender):
	default:
	}
	return nil
}

// RegisterStatusNotifierHost is the D-Bus method a host calls.
func (w *TrayWatcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// Registered lists the items registered so far and their senders.
func (w *TrayWatcher) Registered() (items, senders []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.items...), append([]string(nil), w.senders...)
}

// Registrations delivers each registering item's sender (the bus name to
// read its menu from), as it registers.
func (w *TrayWatcher) Registrations() <-chan string { return w.registered }

// StartTrayWatcher serves a watcher on the bus at addr; host says whether a
// tray host is registered with it.
func StartTrayWatcher(t testing.TB, addr string, host bool) *TrayWatcher {
	t.Helper()
	w := NewTrayWatcher(t, addr, host)
	if err := w.Own(); err != nil {
		t.Fatal(err)
	}
	return w
}

// NewTrayWatcher exports a watcher's objects; Own then takes its name.
func NewTrayWatcher(t testing.TB, addr string, host bool) *TrayWatcher {
	t.Helper()
	conn := DialBus(t, addr)
	w := &TrayWatcher{Conn: conn, registered: make(chan string, 16)}
	if err := conn.Export(w, WatcherPath, WatcherIface); err != nil {
		t.Fatal(err)
	}
	props, err := prop.Export(conn, WatcherPath, prop.Map{WatcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: host, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.Props = props
	return w
}

// Own takes the watcher's well-known name.
func (w *TrayWatcher) Own() error {
	reply, err := w.Conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("owning %s: reply %v, %v", WatcherName, reply, err)
	}
	return nil
}

// MenuNode is a dbusmenu item as a tray host reads it.
type MenuNode struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []MenuNode
}

// Label is the item's label.
func (n MenuNode) Label() string {
	s, _ := n.Props["label"].Value().(string)
	return s
}

// Enabled says whether the item can be clicked.
func (n MenuNode) Enabled() bool {
	b, ok := n.Props["enabled"].Value().(bool)
	return !ok || b
}

// Separator says whether the item is a separator.
func (n MenuNode) Separator() bool { return n.Props["type"].Value() == "separator" }

// Find returns the first item labelled label, searching depth first.
func (n MenuNode) Find(label string) (MenuNode, bool) {
	for _, c := range n.Children {
		if c.Label() == label {
			return c, true
		}
		if f, ok := c.Find(label); ok {
			return f, true
		}
	}
	return MenuNode{}, false
}

// Labels are the labels of n's children ("---" for a separator).
func (n MenuNode) Labels() []string {
	var out []string
	for _, c := range n.Children {
		if c.Separator() {
			out = append(out, "---")
		} else {
			out = append(out, c.Label())
		}
	}
	return out
}

func toMenuNode(t testing.TB, v any) MenuNode {
	t.Helper()
	parts, ok := v.([]any)
	if !ok || len(parts) != 3 {
		t.Fatalf("a dbusmenu layout is (ia{sv}av), got %#v", v)
	}
	n := MenuNode{ID: parts[0].(int32), Props: parts[1].(map[string]dbus.Variant)}
	for _, c := range parts[2].([]dbus.Variant) {
		n.Children = append(n.Children, toMenuNode(t, c.Value()))
	}
	return n
}

// MenuLayout reads the whole menu with GetLayout as a host does: the root,
// then each submenu the first answer left unexpanded (fyne.io/systray
// answers the first GetLayout one level deep, for libdbusmenu-gtk's sake).
func MenuLayout(t testing.TB, menu dbus.BusObject) (uint32, MenuNode) {
	t.Helper()
	var expand func(id int32) (uint32, MenuNode)
	expand = func(id int32) (uint32, MenuNode) {
		var rev uint32
		var raw struct {
			ID       int32
			Props    map[string]dbus.Variant
			Children []dbus.Variant
		}
		if err := menu.Call(MenuIface+".GetLayout", 0, id, int32(-1), []string{}).Store(&rev, &raw); err != nil {
			t.Fatalf("GetLayout(%d): %v", id, err)
		}
		n := MenuNode{ID: raw.ID, Props: raw.Props}
		for _, c := range raw.Children {
			child := toMenuNode(t, c.Value())
			if child.Props["children-display"].Value() == "submenu" && len(child.Children) == 0 {
				_, child = expand(child.ID)
			}
			n.Children = append(n.Children, child)
		}
		return rev, n
	}
	return expand(0)
}

// ClickMenu clicks item n of the menu, as a host does.
func ClickMenu(t testing.TB, menu dbus.BusObject, n MenuNode) {
	t.Helper()
	if err := menu.Call(MenuIface+".Event", 0, n.ID, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatalf("Event(%d %q, clicked): %v", n.ID, n.Label(), err)
	}
}
