package update

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// feedServer is a real local HTTPS server whose answer a test sets, and
// which records every request it gets.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex
	handler  http.HandlerFunc
	requests []*http.Request
}

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	f := &feedServer{}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(context.Background()))
		h := f.handler
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *feedServer) serve(h http.HandlerFunc) {
	f.mu.Lock()
	f.handler = h
	f.mu.Unlock()
}

func (f *feedServer) feed(body string) {
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	})
}

func (f *feedServer) last(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the feed server got no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *feedServer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.Certificate())
	return p
}

// checker of the server's /feed.json for a build of version on linux.
func (f *feedServer) checker(t *testing.T, version string, tweak ...func(*Options)) *Checker {
	t.Helper()
	o := Options{Feed: f.URL + "/feed.json", Version: version, OS: "linux", RootCAs: f.pool()}
	for _, fn := range tweak {
		fn(&o)
	}
	c, err := NewChecker(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const feed020 = `{"version":"0.2.0","published":"2026-12-01","url":"https://example.org/releases/tag/v0.2.0","notes":"Faster restores."}`

func TestCheckComparesVersions(t *testing.T) {
	srv := newFeedServer(t)
	srv.feed(feed020)
	for running, newer := range map[string]bool{
		"0.1.0":                      true,
		"0.2.0":                      false,
		"0.3.0":                      false,
		"0.2.0-dev.12+gb0bf155214df": true,
		"0.3.0-dev.1+gb0bf155214df":  false,
		"0.1.9-rc.1":                 true,
		"0.2.0+local":                false,
	} {
		res, err := srv.checker(t, running).Check(t.Context())
		if err != nil {
			t.Fatalf("running %s: %v", running, err)
		}
		if res.Newer != newer || res.Latest.Version != "0.2.0" || res.Latest.Notes != "Faster restores." {
			t.Errorf("running %s: %+v; want newer %v", running, res, newer)
		}
	}
}

// The request says the version and the OS, and nothing else: no cookie
// (even one the server set), no compression or language header, no other
// query parameter than the feed's own.
func TestRequestCarriesOnlyVersionAndOS(t *testing.T) {
	srv := newFeedServer(t)
	srv.serve(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "track", Value: "me"})
		fmt.Fprint(w, feed020)
	})
	c := srv.checker(t, "0.1.0-dev.264+gb0bf155214df", func(o *Options) { o.Feed += "?channel=stable" })
	for range 2 { // the second would carry a kept cookie
		if _, err := c.Check(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	r := srv.last(t)
	if r.Method != http.MethodGet || r.URL.Path != "/feed.json" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	wantQuery := url.Values{"v": {"0.1.0-dev.264+gb0bf155214df"}, "os": {"linux"}, "channel": {"stable"}}
	if !reflect.DeepEqual(r.URL.Query(), wantQuery) {
		t.Errorf("query %v, want %v", r.URL.Query(), wantQuery)
	}
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	if want := []string{"Accept", "User-Agent"}; !reflect.DeepEqual(names, want) {
		t.Errorf("headers %v (%v), want only %v", names, r.Header, want)
	}
	if ua := r.Header.Get("User-Agent"); ua != "PgSafe/0.1.0-dev.264+gb0bf155214df (linux)" {
		t.Errorf("User-Agent %q", ua)
	}
	if r.Body != nil && r.ContentLength > 0 {
		t.Errorf("a body of %d bytes was sent", r.ContentLength)
	}
}

func TestCheckRefusesBadFeeds(t *testing.T) {
	srv := newFeedServer(t)
	for name, c := range map[string]struct {
		handler http.HandlerFunc
		says    string
		invalid bool
	}{
		"malformed JSON": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version": "0.2.0",`) }, "not valid", true},
		"an HTML page":   {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `<html>Sign in</html>`) }, "not valid", true},
		"an http link": {func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"version":"0.2.0","url":"http://example.org/"}`)
		}, "https://", true},
		"oversize body": {func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"version":"0.2.0","url":"https://example.org/","notes":"%s"}`, strings.Repeat("x", MaxFeedBytes))
		}, "larger than 64 KiB", true},
		"not found": {func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "answered 404 Not Found", false},
	} {
		srv.serve(c.handler)
		_, err := srv.checker(t, "0.1.0").Check(t.Context())
		if err == nil || !strings.Contains(err.Error(), c.says) || errors.Is(err, ErrInvalidFeed) != c.invalid {
			t.Errorf("%s: %v; want an error saying %q (invalid feed: %v)", name, err, c.says, c.invalid)
		}
	}
}

func TestOnlyHTTPS(t *testing.T) {
	for _, feed := range []string{"http://updates.example.org/feed.json", "ftp://example.org/feed", "updates.example.org/feed.json", "https://user:pw@example.org/feed"} {
		if _, err := NewChecker(Options{Feed: feed, Version: "0.1.0", OS: "linux"}); err == nil || !strings.Contains(err.Error(), "not an https:// address") {
			t.Errorf("NewChecker(%s) = %v, want it refused", feed, err)
		}
	}
	if _, err := NewChecker(Options{Version: "0.1.0", OS: "linux"}); err == nil {
		t.Error("a checker without a feed")
	}

	// A redirect to another https address is followed; one to http is not:
	// the plain-text server never sees the request.
	var hit atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true); fmt.Fprint(w, feed020) }))
	defer plain.Close()
	srv := newFeedServer(t)
	srv.serve(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.json":
			http.Redirect(w, r, "/moved.json", http.StatusFound)
		case "/moved.json":
			fmt.Fprint(w, feed020)
		case "/down.json":
			http.Redirect(w, r, plain.URL+"/feed.json", http.StatusMovedPermanently)
		}
	})
	if res, err := srv.checker(t, "0.1.0").Check(t.Context()); err != nil || res.Latest.Version != "0.2.0" {
		t.Errorf("through an https redirect: %+v, %v", res, err)
	}
	c := srv.checker(t, "0.1.0", func(o *Options) { o.Feed = srv.URL + "/down.json" })
	if _, err := c.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "which is not https") {
		t.Errorf("a redirect to http: %v", err)
	}
	if hit.Load() {
		t.Error("the request reached the http server")
	}

	// A server whose certificate this checker does not trust.
	c = srv.checker(t, "0.1.0", func(o *Options) { o.RootCAs = x509.NewCertPool() })
	if _, err := c.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate is not trusted") {
		t.Errorf("an untrusted certificate: %v", err)
	}
}

// A server that never answers: the check gives up at its timeout, or when
// its context is cancelled, and says which.
func TestCheckGivesUp(t *testing.T) {
	srv := newFeedServer(t)
	arrived := make(chan struct{}, 4)
	srv.serve(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // never answers; ends when the client goes
	})
	c := srv.checker(t, "0.1.0", func(o *Options) { o.Timeout = 200 * time.Millisecond })
	_, err := c.Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Errorf("timeout: %v", err)
	}
	<-arrived

	c = srv.checker(t, "0.1.0") // the default timeout: 30 s
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := c.Check(ctx); done <- err }()
	<-arrived
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "was cancelled") {
		t.Errorf("cancelled: %v", err)
	}
}
