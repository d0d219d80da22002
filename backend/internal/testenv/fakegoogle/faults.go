package fakegoogle

import (
	"net/http"
	"strings"
)

// Fault makes the fake answer requests to one endpoint as Google does when
// it is busy or rate limiting, for the tests of PgSafe's retries. Waits are
// never real: a 429 says Retry-After: 0, and a 5xx none (the client's
// backoff base is the test's to make tiny).
type Fault struct {
	// Endpoint is one of "about", "list" (GET /files), "create" (POST
	// /files), "get" (a file's metadata), "download" (alt=media), "rename"
	// (PATCH /files/ID), "delete", "session" (starting a resumable upload),
	// "chunk" (a PUT carrying bytes to the session) and "status" (a PUT with
	// no bytes asking the session what it kept).
	Endpoint string
	// Times is how many requests in a row to the endpoint fail; then the
	// fault is spent.
	Times int
	// Status is the answer: 429 (reason rateLimitExceeded, Retry-After: 0),
	// 403 (reason userRateLimitExceeded), 404 (the session expired), a 5xx
	// (reason backendError), or — for "chunk" — 308, a success that keeps
	// only Keep bytes (its Range ends early), or 0: the connection is cut
	// with no answer.
	Status int
	// Keep, for "chunk": how many of the chunk's bytes the session keeps
	// before answering Status (Google keeps multiples of 256 KiB).
	Keep int
	// Expire, for "chunk" and "status": the session is dropped (this and
	// later requests to it answer 404).
	Expire bool
}

// Inject queues faults: each request takes the first unspent one for its
// endpoint.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range f {
		c := f[i]
		s.faults = append(s.faults, &c)
	}
}

// Injected is how many requests the faults have failed (or cut short).
func (s *Server) Injected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injected
}

// Pending is how many failures the queued faults still hold.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.Times
	}
	return n
}

// Clear drops the faults queued and not yet spent.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns (and counts) the fault for r's endpoint, or nil.
func (s *Server) takeFault(r *http.Request) *Fault {
	ep := endpoint(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Endpoint == ep && f.Times > 0 {
			f.Times--
			s.injected++
			c := *f
			return &c
		}
	}
	return nil
}

// endpoint names the Drive endpoint r calls (see Fault.Endpoint).
func endpoint(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/drive/v3/about":
		return "about"
	case p == "/drive/v3/files" && r.Method == http.MethodGet:
		return "list"
	case p == "/drive/v3/files" && r.Method == http.MethodPost:
		return "create"
	case strings.HasPrefix(p, "/drive/v3/files/"):
		switch r.Method {
		case http.MethodGet:
			if r.URL.Query().Get("alt") == "media" {
				return "download"
			}
			return "get"
		case http.MethodPatch:
			return "rename"
		case http.MethodDelete:
			return "delete"
		}
	case strings.HasPrefix(p, "/upload/drive/v3/files"):
		switch {
		case r.URL.Query().Get("upload_id") == "":
			return "session"
		case r.Method == http.MethodPut && r.ContentLength == 0:
			return "status"
		case r.Method == http.MethodPut:
			return "chunk"
		}
	}
	return ""
}

// failWith answers what Google answers for status.
func failWith(w http.ResponseWriter, status int) {
	switch status {
	case 0:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "0")
		apiErr(w, status, "rateLimitExceeded", "Rate Limit Exceeded")
	case http.StatusForbidden:
		apiErr(w, status, "userRateLimitExceeded", "User Rate Limit Exceeded")
	case http.StatusNotFound:
		apiErr(w, status, "notFound", "upload session not found")
	default:
		apiErr(w, status, "backendError", "Backend Error")
	}
}
