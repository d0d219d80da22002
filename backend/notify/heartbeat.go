package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// heartbeat pings a monitoring service when a backup starts, succeeds and
// fails: the dead man's switch that notices when backups stop happening at
// all. The ping URL is a secret (it carries the check's token). See
// docs/NOTIFY.md.
type heartbeat struct {
	service  string
	url      string // may hold DatabasePlaceholder
	database string // "": every database
	red      *redactor
}

// Heartbeat services (setting service).
const (
	ServiceHealthchecks = "healthchecks" // healthchecks.io or a self-hosted one
	ServiceUptimeKuma   = "uptime-kuma"  // an Uptime Kuma push monitor
	ServiceURL          = "url"          // any URL, with ?event=…
)

var heartbeatServices = []string{ServiceHealthchecks, ServiceUptimeKuma, ServiceURL}

// DatabasePlaceholder in a heartbeat's URL is replaced by the database's
// name, path-escaped, so one notifier serves every database (healthchecks'
// slug URLs, https://hc-ping.com/<ping-key>/{database}?create=1).
const DatabasePlaceholder = "{database}"

// testDatabase stands in for DatabasePlaceholder in a test ping.
const testDatabase = "pgsafe-test"

// HeartbeatTimeout bounds one ping: a monitoring service answers at once.
const HeartbeatTimeout = 10 * time.Second

// heartbeatEvents are the events a heartbeat takes, and its default.
var heartbeatEvents = []string{EventBackupStarted, EventBackupSucceeded, EventBackupFailed}

func buildHeartbeat(p *params) sender {
	h := &heartbeat{red: p.red}
	h.service = p.setting("service", true, strings.Join(heartbeatServices, ", "))
	if h.service != "" && !slices.Contains(heartbeatServices, h.service) {
		p.fail("settings.service", fmt.Sprintf("%q is not one of %s", h.service, strings.Join(heartbeatServices, ", ")))
	}
	h.database = p.setting("database", false, "")
	h.url = p.secret("url", true, "the check's ping URL")
	checkURL(p, "secrets.url", strings.ReplaceAll(h.url, DatabasePlaceholder, testDatabase), true)
	p.red.addURL(h.url)
	// With the placeholder, the URL sent differs from the one registered:
	// hide the parts around it, and every long path segment (a ping key).
	if strings.Contains(h.url, DatabasePlaceholder) {
		for _, part := range strings.Split(h.url, DatabasePlaceholder) {
			p.red.add(strings.Trim(part, "/"))
			for _, seg := range strings.FieldsFunc(part, func(r rune) bool { return r == '/' || r == '?' || r == '&' || r == '=' }) {
				if len(seg) >= 8 && !strings.Contains(seg, ".") && !strings.HasSuffix(seg, ":") {
					p.red.add(seg)
				}
			}
		}
	}
	for _, e := range p.cfg.Events {
		if !slices.Contains(heartbeatEvents, e) {
			p.fail("events", fmt.Sprintf("a heartbeat pings for backups only: %q is not one of %s", e, strings.Join(heartbeatEvents, ", ")))
		}
	}
	return h
}

func (h *heartbeat) send(ctx context.Context, ev Event) error {
	if h.database != "" && ev.Kind != EventTest && ev.Database != h.database {
		return nil // another database's backup
	}
	if ev.Kind == EventBackupStarted && h.service == ServiceUptimeKuma {
		return nil // Uptime Kuma has no start ping
	}
	ctx, cancel := context.WithTimeout(ctx, HeartbeatTimeout)
	defer cancel()
	db := ev.Database
	if ev.Kind == EventTest || db == "" {
		db = testDatabase
	}
	base := strings.ReplaceAll(h.url, DatabasePlaceholder, url.PathEscape(db))
	method, target, body := h.ping(base, ev)
	var hdr http.Header
	if body != nil {
		hdr = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	}
	answer, err := doHTTP(ctx, h.red, method, target, hdr, body)
	if err != nil {
		return err
	}
	return h.check(answer)
}

// ping is the request for ev: method, URL and body (nil: none).
func (h *heartbeat) ping(base string, ev Event) (string, string, []byte) {
	reason := []byte(truncate(oneLine(reasonOf(ev)), 1000))
	switch h.service {
	case ServiceHealthchecks:
		switch ev.Kind {
		case EventBackupStarted:
			return http.MethodGet, withPath(base, "/start"), nil
		case EventBackupFailed:
			return http.MethodPost, withPath(base, "/fail"), reason
		default: // succeeded, test
			return http.MethodGet, base, nil
		}
	case ServiceUptimeKuma:
		q := url.Values{}
		if ev.Kind == EventBackupFailed {
			q.Set("status", "down")
			q.Set("msg", truncate(oneLine(reasonOf(ev)), 200))
		} else {
			q.Set("status", "up")
			q.Set("msg", "OK")
			q.Set("ping", strconv.FormatInt(ev.Duration.Milliseconds(), 10))
		}
		push, _, _ := strings.Cut(base, "?") // the push URL Kuma shows ends in ?status=up&msg=OK&ping=
		return http.MethodGet, push + "?" + q.Encode(), nil
	default: // ServiceURL
		name := map[string]string{EventBackupStarted: "start", EventBackupSucceeded: "success", EventBackupFailed: "failure"}[ev.Kind]
		if name == "" {
			name = ev.Kind // test
		}
		target := withQuery(base, "event="+name)
		if ev.Kind == EventBackupFailed {
			return http.MethodPost, target, reason
		}
		return http.MethodGet, target, nil
	}
}

// check reads a 2xx answer for the services' "no such check" replies.
func (h *heartbeat) check(answer []byte) error {
	switch h.service {
	case ServiceHealthchecks:
		if strings.HasPrefix(string(answer), "OK (not found)") {
			return fmt.Errorf("healthchecks has no check with this ping URL: copy the URL from the check's page (or add ?create=1 to a slug URL)")
		}
	case ServiceUptimeKuma:
		var res struct {
			OK  *bool  `json:"ok"`
			Msg string `json:"msg"`
		}
		if json.Unmarshal(answer, &res) == nil && res.OK != nil && !*res.OK {
			return fmt.Errorf("Uptime Kuma refused the push: %s", excerpt(h.red, []byte(res.Msg)))
		}
	}
	return nil
}

// reasonOf is the one line a failure ping carries: the body's first line,
// else the title.
func reasonOf(ev Event) string {
	if first, _, _ := strings.Cut(strings.TrimSpace(ev.Body), "\n"); first != "" {
		return first
	}
	return ev.Title
}

// withPath appends a path element before the query: /start, /fail.
func withPath(raw, elem string) string {
	base, query, hasQuery := strings.Cut(raw, "?")
	base = strings.TrimRight(base, "/") + elem
	if hasQuery {
		return base + "?" + query
	}
	return base
}

// withQuery adds a query parameter to a URL.
func withQuery(raw, param string) string {
	if strings.Contains(raw, "?") {
		return raw + "&" + param
	}
	return raw + "?" + param
}
