package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// ErrNoDesktop means no desktop notification service answers: no D-Bus
// session bus, or nothing on it owns org.freedesktop.Notifications (a
// server, a headless machine, macOS or Windows). Errors of the desktop
// notifier match it with errors.Is; the app can say so once and stop
// trying.
var ErrNoDesktop = errors.New("no desktop notification service")

// DesktopTimeout bounds one desktop notification.
const DesktopTimeout = 10 * time.Second

const (
	notificationsName  = "org.freedesktop.Notifications"
	notificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notificationsIface = "org.freedesktop.Notifications"
)

// desktop shows a notification through the freedesktop Notifications API
// (org.freedesktop.Notifications.Notify) on the session bus. It takes no
// settings; it connects anew for each notification.
type desktop struct{}

func buildDesktop(*params) sender { return desktop{} }

// sessionBusAddress is the session bus's address without godbus's
// fallback of launching a bus of its own (dbus-launch) where there is none.
func sessionBusAddress() (string, error) {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a, nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p, nil
		}
	}
	return "", fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)", ErrNoDesktop)
}

// noService reports whether err says nothing owns the called name.
func noService(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner"
	}
	return false
}

var markupEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func (desktop) send(ctx context.Context, ev Event) error {
	ctx, cancel := context.WithTimeout(ctx, DesktopTimeout)
	defer cancel()
	addr, err := sessionBusAddress()
	if err != nil {
		return err
	}
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: connecting to the session bus: %v", ErrNoDesktop, err)
	}
	defer conn.Close()
	obj := conn.Object(notificationsName, notificationsPath)

	// Servers with "body-markup" read the body as a small markup language:
	// escape it there. A server without GetCapabilities gets plain text.
	var caps []string
	if err := obj.CallWithContext(ctx, notificationsIface+".GetCapabilities", 0).Store(&caps); err != nil {
		if noService(err) {
			return fmt.Errorf("%w: nothing on the session bus owns %s", ErrNoDesktop, notificationsName)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("asking the notification service: %w", ctx.Err())
		}
	}
	body := desktopBody(ev)
	if slices.Contains(caps, "body-markup") {
		body = markupEscaper.Replace(body)
	}
	icon, urgency := "dialog-information", byte(1)
	switch ev.severity() {
	case sevProblem:
		icon, urgency = "dialog-error", 2
	case sevWarning:
		icon = "dialog-warning"
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}
	var id uint32
	err = obj.CallWithContext(ctx, notificationsIface+".Notify", 0,
		"PgSafe", uint32(0), icon, truncate(ev.Title, 200), body, []string{}, hints, int32(-1)).Store(&id)
	if err != nil {
		if noService(err) {
			return fmt.Errorf("%w: nothing on the session bus owns %s", ErrNoDesktop, notificationsName)
		}
		return fmt.Errorf("%s.Notify: %w", notificationsIface, err)
	}
	return nil
}

// desktopBody is the body text: a short one, as notifications are.
func desktopBody(ev Event) string {
	var lines []string
	if ev.Body != "" {
		lines = append(lines, truncate(strings.TrimSpace(ev.Body), 300))
	}
	for _, f := range facts(ev) {
		if f.name != "Time" {
			lines = append(lines, f.name+": "+truncate(f.value, 100))
		}
	}
	return strings.Join(lines, "\n")
}
