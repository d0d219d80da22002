package notify

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func heartbeatEvent(kind, db string) Event {
	ev := Event{Kind: kind, Database: db, Title: label(kind) + ": " + db, Duration: 1234 * time.Millisecond}
	if kind == EventBackupFailed {
		ev.Body = "pg_dump: error: connection to server failed\nNothing of this backup was kept."
	}
	return ev
}

func newHeartbeat(t *testing.T, service, url string, settings map[string]string) Notifier {
	t.Helper()
	s := map[string]string{"service": service}
	for k, v := range settings {
		s[k] = v
	}
	return mustNew(t, config(KindHeartbeat, s, map[string]string{"url": url}))
}

func TestHeartbeatHealthchecks(t *testing.T) {
	srv := newServer(t)
	n := newHeartbeat(t, "healthchecks", srv.URL+"/ping/0f2cUUID", nil)
	for _, k := range []string{EventBackupStarted, EventBackupSucceeded, EventBackupFailed} {
		send(t, n, heartbeatEvent(k, "orders"))
	}
	got := srv.got()
	want := []struct{ method, path string }{{"GET", "/ping/0f2cUUID/start"}, {"GET", "/ping/0f2cUUID"}, {"POST", "/ping/0f2cUUID/fail"}}
	if len(got) != len(want) {
		t.Fatalf("server got %d requests, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Method != w.method || got[i].Path != w.path {
			t.Errorf("ping %d: %s %s, want %s %s", i, got[i].Method, got[i].Path, w.method, w.path)
		}
	}
	if string(got[2].Body) != "pg_dump: error: connection to server failed" {
		t.Errorf("fail ping body %q, want the reason's one line", got[2].Body)
	}
	if len(got[0].Body) != 0 || len(got[1].Body) != 0 {
		t.Error("start and success pings carry a body")
	}
}

// One notifier for every database: {database} becomes each one's
// path-escaped name, and a query (?create=1) stays after the path.
func TestHeartbeatDatabasePlaceholder(t *testing.T) {
	srv := newServer(t)
	n := newHeartbeat(t, "healthchecks", srv.URL+"/pingKEY/{database}?create=1", nil)
	send(t, n, heartbeatEvent(EventBackupStarted, "prod/sales db"))
	send(t, n, heartbeatEvent(EventBackupSucceeded, "orders"))
	send(t, n, TestEvent("hc"))
	got := srv.got()
	paths := []string{got[0].Path, got[1].Path, got[2].Path}
	if want := []string{"/pingKEY/prod%2Fsales%20db/start", "/pingKEY/orders", "/pingKEY/pgsafe-test"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	for _, r := range got {
		if r.Query != "create=1" {
			t.Errorf("%s: query %q, want create=1", r.Path, r.Query)
		}
	}
}

// Without the placeholder, the database setting keeps a notifier to one
// database's backups.
func TestHeartbeatOneDatabase(t *testing.T) {
	srv := newServer(t)
	n := newHeartbeat(t, "healthchecks", srv.URL+"/ping/shopUUID", map[string]string{"database": "Shop"})
	send(t, n, heartbeatEvent(EventBackupSucceeded, "Other"))
	send(t, n, heartbeatEvent(EventBackupSucceeded, "Shop"))
	if r := srv.only(t); r.Path != "/ping/shopUUID" {
		t.Errorf("pinged %s", r.Path)
	}
}

func TestHeartbeatUptimeKuma(t *testing.T) {
	srv := newServer(t)
	srv.answer = func(request) string { return `{"ok":true}` }
	// The push URL as Kuma shows it, with its example query.
	n := newHeartbeat(t, "uptime-kuma", srv.URL+"/api/push/kumaTOKEN?status=up&msg=OK&ping=", nil)
	send(t, n, heartbeatEvent(EventBackupStarted, "orders")) // no start ping in Kuma
	send(t, n, heartbeatEvent(EventBackupSucceeded, "orders"))
	send(t, n, heartbeatEvent(EventBackupFailed, "orders"))
	got := srv.got()
	if len(got) != 2 {
		t.Fatalf("server got %d requests, want 2 (no start ping)", len(got))
	}
	up, _ := url.ParseQuery(got[0].Query)
	down, _ := url.ParseQuery(got[1].Query)
	if got[0].Path != "/api/push/kumaTOKEN" || up.Get("status") != "up" || up.Get("msg") != "OK" || up.Get("ping") != "1234" || len(up) != 3 {
		t.Errorf("success push %s?%s", got[0].Path, got[0].Query)
	}
	if down.Get("status") != "down" || down.Get("msg") != "pg_dump: error: connection to server failed" || down.Has("ping") {
		t.Errorf("failure push ?%s", got[1].Query)
	}

	// A monitor Kuma does not know is an error in words.
	srv.answer = func(request) string { return `{"ok":false,"msg":"Monitor not found or not active."}` }
	err := n.Send(context.Background(), heartbeatEvent(EventBackupSucceeded, "orders"))
	if err == nil || !strings.Contains(err.Error(), "Uptime Kuma refused the push: Monitor not found or not active.") {
		t.Errorf("err = %v", err)
	}
}

func TestHeartbeatURL(t *testing.T) {
	srv := newServer(t)
	n := newHeartbeat(t, "url", srv.URL+"/beat?key=k1", nil)
	for _, k := range []string{EventBackupStarted, EventBackupSucceeded, EventBackupFailed, EventTest} {
		send(t, n, heartbeatEvent(k, "orders"))
	}
	var got []string
	for _, r := range srv.got() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+string(r.Body))
	}
	want := []string{
		"GET /beat?key=k1&event=start ",
		"GET /beat?key=k1&event=success ",
		"POST /beat?key=k1&event=failure pg_dump: error: connection to server failed",
		"GET /beat?key=k1&event=test ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// healthchecks answers 200 "OK (not found)" for a UUID it does not know.
func TestHeartbeatHealthchecksUnknownCheck(t *testing.T) {
	srv := newServer(t)
	srv.answer = func(request) string { return "OK (not found)" }
	n := newHeartbeat(t, "healthchecks", srv.URL+"/ping/unknownUUID", nil)
	err := n.Send(context.Background(), heartbeatEvent(EventBackupSucceeded, "orders"))
	if err == nil || !strings.Contains(err.Error(), "healthchecks has no check with this ping URL") || strings.Contains(err.Error(), "unknownUUID") {
		t.Errorf("err = %v", err)
	}
}

// Only heartbeats want backup.started by default; a heartbeat takes
// backup events only; an event's audience picks heartbeats or the others.
func TestHeartbeatEvents(t *testing.T) {
	hb := newHeartbeat(t, "healthchecks", "https://hc-ping.com/uuid", nil)
	chat := mustNew(t, config(KindSlack, nil, map[string]string{"webhook_url": "https://hooks.slack.com" + slackPath}))
	for _, k := range []string{EventBackupStarted, EventBackupSucceeded, EventBackupFailed} {
		if !hb.Wants(k) {
			t.Errorf("heartbeat does not want %s by default", k)
		}
	}
	if hb.Wants(EventDatabaseDown) || chat.Wants(EventBackupStarted) || chat.Wants(EventBackupSucceeded) {
		t.Error("default events: heartbeat wants database.down, or a chat notifier wants started or succeeded")
	}
	_, err := New(config(KindHeartbeat, map[string]string{"service": "healthchecks"}, map[string]string{"url": "https://hc-ping.com/uuid"}, EventDatabaseDown))
	if ce, ok := errors.AsType[*ConfigError](err); !ok || ce.Field != "events" {
		t.Errorf("a heartbeat on database.down: err = %v", err)
	}
	for _, tc := range []struct {
		audience       string
		toHB, toOthers bool
	}{{"", true, true}, {AudienceHeartbeats, true, false}, {AudiencePeople, false, true}} {
		ev := Event{Kind: EventBackupFailed, Audience: tc.audience}
		if takes(hb, ev) != tc.toHB || takes(chat, ev) != tc.toOthers {
			t.Errorf("audience %q: heartbeat %v, chat %v", tc.audience, takes(hb, ev), takes(chat, ev))
		}
	}
}

func TestHeartbeatConfig(t *testing.T) {
	for _, tc := range []struct {
		service, url, field string
	}{
		{"", "https://hc-ping.com/uuid", "settings.service"},
		{"nagios", "https://hc-ping.com/uuid", "settings.service"},
		{"healthchecks", "", "secrets.url"},
		{"healthchecks", "ftp://hc-ping.com/uuidSECRET", "secrets.url"},
	} {
		_, err := New(config(KindHeartbeat, map[string]string{"service": tc.service}, map[string]string{"url": tc.url}))
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok || ce.Field != tc.field {
			t.Errorf("service %q url %q: err = %v, want a problem with %s", tc.service, tc.url, err, tc.field)
		} else if strings.Contains(err.Error(), "uuidSECRET") {
			t.Errorf("the problem quotes the URL: %v", err)
		}
	}
	// The URL given as a plain setting is refused: it is a secret.
	_, err := New(config(KindHeartbeat, map[string]string{"service": "url", "url": "https://x.example/"}, map[string]string{"url": "https://x.example/"}))
	if ce, ok := errors.AsType[*ConfigError](err); !ok || ce.Field != "settings.url" {
		t.Errorf("url as a setting: err = %v", err)
	}
}

// A server that is gone is an error naming the host only, never the URL.
func TestHeartbeatGoneServerRedacted(t *testing.T) {
	gone := newServer(t)
	gone.Close()
	n := newHeartbeat(t, "healthchecks", gone.URL+"/ping/goneUUIDsecret", nil)
	err := n.Send(context.Background(), heartbeatEvent(EventBackupStarted, "orders"))
	if err == nil || strings.Contains(err.Error(), "goneUUIDsecret") || !strings.Contains(err.Error(), `heartbeat notifier "ops heartbeat": GET to 127.0.0.1`) {
		t.Errorf("err = %v", err)
	}
}
