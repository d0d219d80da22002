package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
)

// config builds a NotifierConfig with secret values, as
// store.NotifierCredentials returns it.
func config(kind string, settings, secrets map[string]string, events ...string) store.NotifierConfig {
	c := store.NotifierConfig{Name: "ops " + kind, Kind: kind, Enabled: true, Events: events, Settings: settings}
	if secrets != nil {
		c.Secrets = map[string]store.Secret{}
		for k, v := range secrets {
			c.Secrets[k] = store.NewSecret(v)
		}
	}
	return c
}

func mustNew(t *testing.T, c store.NotifierConfig) Notifier {
	t.Helper()
	n, err := New(c)
	if err != nil {
		t.Fatalf("New(%s): %v", c.Kind, err)
	}
	return n
}

// sampleEvent is a failed backup with a body that needs escaping in every
// format.
func sampleEvent() Event {
	return Event{
		Kind:     EventBackupFailed,
		Database: "orders",
		Title:    "Backup of orders failed",
		Body:     "pg_dump: error: connection to server failed <timeout> & gave up",
		At:       time.Date(2026, 11, 3, 4, 5, 6, 0, time.UTC),
		Fields:   map[string]string{"storage": "offsite-s3", "backup_id": "b-123"},
	}
}

// request is what a test HTTP server received.
type request struct {
	Method string
	Path   string // escaped path, as sent
	Query  string // raw query, as sent
	Header http.Header
	Body   []byte
}

func (r request) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// server is an httptest server that records requests and answers with
// the scripted statuses in turn (the last one repeats; none: 200).
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	statuses []int
	answer   func(r request) string // body of the answer (default "ok")
}

func newServer(t *testing.T, statuses ...int) *server {
	t.Helper()
	s := &server{statuses: statuses}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, req)
		status := http.StatusOK
		if len(s.statuses) > 0 {
			status = s.statuses[min(n, len(s.statuses)-1)]
		}
		answer := s.answer
		s.mu.Unlock()
		w.WriteHeader(status)
		if answer != nil {
			io.WriteString(w, answer(req))
		} else {
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) got() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

func (s *server) only(t *testing.T) request {
	t.Helper()
	got := s.got()
	if len(got) != 1 {
		t.Fatalf("server got %d requests, want 1", len(got))
	}
	return got[0]
}

// logBuffer is an slog.Logger writing JSON lines into a buffer.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// dig walks a decoded JSON value by object keys and array indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %T is not an object", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: %T is not an array that long (%v)", k, v, v)
			}
			v = a[k]
		}
	}
	return v
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
