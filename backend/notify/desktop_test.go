package notify

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// These tests show notifications on a private D-Bus session bus
// (testenv.SessionBus) where a small org.freedesktop.Notifications service
// of the test's own records each call.

type notifyCall struct {
	app, icon, summary, body string
	replaces                 uint32
	actions                  []string
	hints                    map[string]dbus.Variant
	timeout                  int32
}

type notificationService struct {
	caps  []string
	mu    sync.Mutex
	calls []notifyCall
}

func (s *notificationService) GetCapabilities() ([]string, *dbus.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.caps), nil
}

func (s *notificationService) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, notifyCall{app, icon, summary, body, replaces, actions, hints, timeout})
	return uint32(len(s.calls)), nil
}

func (s *notificationService) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "pgsafe-test", "PgSafe", "1", "1.2", nil
}

func (s *notificationService) got() []notifyCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notifyCall(nil), s.calls...)
}

// serveNotifications registers the service on the test's session bus.
func serveNotifications(t *testing.T, addr string, caps ...string) *notificationService {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &notificationService{caps: caps}
	if err := conn.Export(s, notificationsPath, notificationsIface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notificationsName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: reply %v, %v", notificationsName, reply, err)
	}
	return s
}

func TestDesktop(t *testing.T) {
	addr := testenv.SessionBus(t)
	svc := serveNotifications(t, addr, "body")
	n := mustNew(t, config(KindDesktop, nil, nil))
	send(t, n, sampleEvent())

	calls := svc.got()
	if len(calls) != 1 {
		t.Fatalf("%d Notify calls, want 1", len(calls))
	}
	c := calls[0]
	if c.app != "PgSafe" || c.summary != "Backup of orders failed" || c.icon != "dialog-error" || c.replaces != 0 || c.timeout != -1 || len(c.actions) != 0 {
		t.Errorf("Notify(app %q, replaces %d, icon %q, summary %q, actions %v, timeout %d)", c.app, c.replaces, c.icon, c.summary, c.actions, c.timeout)
	}
	wantBody := sampleEvent().Body + "\nDatabase: orders\nbackup_id: b-123\nstorage: offsite-s3"
	if c.body != wantBody {
		t.Errorf("body = %q, want %q", c.body, wantBody)
	}
	if u, ok := c.hints["urgency"].Value().(byte); !ok || u != 2 {
		t.Errorf("urgency hint = %v, want byte 2 (critical) for a failure", c.hints["urgency"])
	}

	// The test event, on a server that reads markup: escaped, normal urgency.
	svc.mu.Lock()
	svc.caps = []string{"body", "body-markup"}
	svc.mu.Unlock()
	ev := Event{Kind: EventDatabaseUp, Database: "a<b>&c", Title: "orders is up again"}
	send(t, n, ev)
	c = svc.got()[1]
	if c.summary != "orders is up again" || c.icon != "dialog-information" || !strings.HasPrefix(c.body, "Database: a&lt;b&gt;&amp;c") {
		t.Errorf("summary %q, icon %q, body %q", c.summary, c.icon, c.body)
	}
	if u, _ := c.hints["urgency"].Value().(byte); u != 1 {
		t.Errorf("urgency = %d, want 1", u)
	}
	if err := Test(context.Background(), n); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if c := svc.got()[2]; c.summary != "PgSafe test notification" || !strings.Contains(c.body, `"ops desktop" works`) {
		t.Errorf("test notification: %q / %q", c.summary, c.body)
	}
}

func TestDesktopNoService(t *testing.T) {
	testenv.SessionBus(t) // a bus where nothing owns org.freedesktop.Notifications
	n := mustNew(t, config(KindDesktop, nil, nil))
	err := n.Send(context.Background(), sampleEvent())
	if !errors.Is(err, ErrNoDesktop) || !strings.Contains(err.Error(), "nothing on the session bus owns org.freedesktop.Notifications") {
		t.Errorf("err = %v, want ErrNoDesktop", err)
	}

	// No session bus at all: the variable points nowhere, or is unset.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if err := n.Send(context.Background(), sampleEvent()); !errors.Is(err, ErrNoDesktop) {
		t.Errorf("bus address to nothing: err = %v, want ErrNoDesktop", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	start := time.Now()
	err = n.Send(context.Background(), sampleEvent())
	if !errors.Is(err, ErrNoDesktop) || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Errorf("no bus: err = %v, want ErrNoDesktop", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v: did it launch a bus?", time.Since(start))
	}
}
