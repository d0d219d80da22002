// Package fakegoogle is a local fake of exactly the Google endpoints PgSafe
// calls, for tests: no real Google service can be reached from them. It is
// written from Google's documentation and is strict where PgSafe could go
// wrong (PKCE S256, state and redirect URI, client ID, query syntax, chunk
// sizes, Content-Range), so a test against it means something:
//
//   - OAuth 2.0 for installed apps: GET /o/oauth2/v2/auth (a page with
//     "Allow" and "Deny", as a person sees it) and POST /token
//     (authorization_code with code_verifier; refresh_token, answering
//     invalid_grant once the grant is revoked);
//   - Drive v3: GET /drive/v3/files (q, pageSize, pageToken), GET
//     /drive/v3/files/{id} (alt=media), POST /drive/v3/files (metadata),
//     PATCH /drive/v3/files/{id} (rename), DELETE /drive/v3/files/{id},
//     GET /drive/v3/about; resumable uploads: POST or PATCH
//     /upload/drive/v3/files[/{id}]?uploadType=resumable, then PUT chunks
//     to the session URI (308 with Range until the last);
//   - for retry tests: Inject queues faults (429, 403 rate limits, 5xx,
//     chunks kept in part, expired sessions) for an endpoint;
//   - for browser tests: POST /fake/revoke revokes every grant (what a user
//     does at myaccount.google.com/permissions).
package fakegoogle

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running fake.
type Server struct {
	URL      string // http://127.0.0.1:port: PGSAFE_OAUTH_BASE_GDRIVE
	ClientID string
	Email    string
	// RotateRefresh makes every refresh hand out a new refresh token and
	// invalidate the old one (Google does not; Dropbox and OneDrive may).
	RotateRefresh bool
	// PageMax caps pageSize (Google: 1000), to test paging.
	PageMax int

	srv       *httptest.Server
	mu        sync.Mutex
	files     map[string]*File
	pending   map[string]authRequest // by request id (the page) and by code
	refresh   map[string]bool        // valid refresh tokens
	access    map[string]string      // valid access tokens → their refresh token
	sessions  map[string]*session
	clock     time.Time
	maxChunk  int
	refreshes int
	faults    []*Fault
	injected  int
	issued    []string
}

// File is a file or folder in the fake Drive.
type File struct {
	ID       string
	Name     string
	Parents  []string
	MimeType string
	Data     []byte
	Modified time.Time
}

type authRequest struct {
	redirect, state, challenge, scope string
}

type session struct {
	fileID string
	data   []byte
}

// Start starts a fake on 127.0.0.1 and stops it at cleanup.
func Start(t testing.TB) *Server {
	s := &Server{ClientID: "pgsafe-test-" + random(4) + ".apps.googleusercontent.com", Email: "backup.owner@example.com", PageMax: 1000,
		files: map[string]*File{}, pending: map[string]authRequest{}, refresh: map[string]bool{}, access: map[string]string{},
		sessions: map[string]*session{}, clock: time.Now().UTC().Truncate(time.Millisecond)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Revoke revokes every grant: refreshes answer invalid_grant and access
// tokens stop working.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = map[string]bool{}
	s.access = map[string]string{}
}

// Files returns the files (not folders) whose name starts with prefix.
func (s *Server) Files(prefix string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		if f.MimeType != folderMime && strings.HasPrefix(f.Name, prefix) {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Folder returns the folder at path ("PgSafe/crm"), or nil.
func (s *Server) Folder(path string) *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := "root"
	var found *File
	for _, name := range strings.Split(path, "/") {
		found = nil
		for _, f := range s.files {
			if f.MimeType == folderMime && f.Name == name && len(f.Parents) > 0 && f.Parents[0] == parent {
				found = f
			}
		}
		if found == nil {
			return nil
		}
		parent = found.ID
	}
	c := *found
	return &c
}

// DeleteFile removes a file or folder (and what is in it), as a user would
// in Drive's web page.
func (s *Server) DeleteFile(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(id)
}

// MaxChunk is the largest upload chunk received, in bytes.
func (s *Server) MaxChunk() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxChunk
}

// Refreshes counts the refresh_token grants answered.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// Approve does what a person does in the browser: opens the authorization
// URL and clicks "Allow" (or "Deny"), following the redirect to the app's
// loopback page, whose text it returns.
func (s *Server) Approve(authURL string, allow bool) (string, error) {
	resp, err := http.Get(authURL)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authorize page: %s: %s", resp.Status, page)
	}
	word := "approve"
	if !allow {
		word = "deny"
	}
	m := regexp.MustCompile(`href="(/o/oauth2/v2/auth/` + word + `\?req=[^"]+)"`).FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("authorize page has no %s link: %s", word, page)
	}
	resp, err = http.Get(s.URL + string(m[1]))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

const folderMime = "application/vnd.google-apps.folder"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/o/oauth2/v2/auth":
		s.authorize(w, r)
	case p == "/o/oauth2/v2/auth/approve" || p == "/o/oauth2/v2/auth/deny":
		s.answer(w, r, p == "/o/oauth2/v2/auth/approve")
	case p == "/token" && r.Method == http.MethodPost:
		s.token(w, r)
	case p == "/fake/revoke" && r.Method == http.MethodPost:
		s.Revoke()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(p, "/drive/v3/") || strings.HasPrefix(p, "/upload/drive/v3/"):
		if !s.authorized(r) {
			apiErr(w, http.StatusUnauthorized, "authError", "Request had invalid authentication credentials.")
			return
		}
		if f := s.takeFault(r); f != nil && (f.Endpoint != "chunk" && f.Endpoint != "status") {
			failWith(w, f.Status)
		} else {
			s.drive(w, r, f)
		}
	default:
		http.NotFound(w, r)
	}
}

var authPage = template.Must(template.New("auth").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Sign in - Google Accounts (fake)</title></head>
<body style="font-family:sans-serif"><h1>PgSafe wants to access your Google Account</h1><p>{{.Email}}</p>
<p>This will allow PgSafe to see, edit, create and delete only the specific Google Drive files you use with this app.</p>
<a id="deny" href="/o/oauth2/v2/auth/deny?req={{.Req}}">Cancel</a> <a id="approve" href="/o/oauth2/v2/auth/approve?req={{.Req}}">Allow</a></body></html>`))

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(msg string) { http.Error(w, "Error 400: invalid_request\n"+msg, http.StatusBadRequest) }
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, "Error 401: invalid_client\nThe OAuth client was not found.", http.StatusUnauthorized)
		return
	case q.Get("response_type") != "code":
		fail("response_type must be code")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		fail("PKCE with code_challenge_method=S256 is required")
		return
	case q.Get("state") == "":
		fail("state is missing")
		return
	case q.Get("access_type") != "offline":
		fail("without access_type=offline no refresh token is issued")
		return
	case q.Get("scope") == "":
		fail("scope is missing")
		return
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		fail("redirect_uri must be a loopback address, http://127.0.0.1:PORT/")
		return
	}
	id := random(12)
	s.mu.Lock()
	s.pending[id] = authRequest{redirect: q.Get("redirect_uri"), state: q.Get("state"), challenge: q.Get("code_challenge"), scope: q.Get("scope")}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	authPage.Execute(w, struct{ Email, Req string }{s.Email, id})
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, allow bool) {
	s.mu.Lock()
	req, ok := s.pending[r.URL.Query().Get("req")]
	delete(s.pending, r.URL.Query().Get("req"))
	code := "4/fake-" + random(16)
	if ok && allow {
		s.pending[code] = req
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "this sign-in request is unknown or used", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {req.state}}
	if allow {
		v.Set("code", code)
		v.Set("scope", req.scope)
	} else {
		v.Set("error", "access_denied")
	}
	http.Redirect(w, r, req.redirect+"?"+v.Encode(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, _, basic := r.BasicAuth()
	if !basic {
		id = r.PostForm.Get("client_id")
	}
	if id != s.ClientID {
		tokenErr(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rt string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		req, ok := s.pending[r.PostForm.Get("code")]
		delete(s.pending, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok:
			tokenErr(w, http.StatusBadRequest, "invalid_grant")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge:
			tokenErr(w, http.StatusBadRequest, "invalid_grant") // PKCE: the verifier does not match
			return
		case r.PostForm.Get("redirect_uri") != req.redirect:
			tokenErr(w, http.StatusBadRequest, "redirect_uri_mismatch")
			return
		}
		rt = "1//fake-" + random(24)
		s.refresh[rt] = true
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if !s.refresh[old] {
			tokenErr(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		s.refreshes++
		if !s.RotateRefresh {
			rt = old
			break
		}
		delete(s.refresh, old)
		rt = "1//fake-" + random(24)
		s.refresh[rt] = true
	default:
		tokenErr(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	at := "ya29.fake-" + random(24)
	s.access[at] = rt
	s.issued = append(s.issued, at, rt)
	out := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/drive.file"}
	if r.PostForm.Get("grant_type") == "authorization_code" || s.RotateRefresh {
		out["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) authorized(r *http.Request) bool {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok && s.access[at] != ""
}

func tokenErr(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": "fake: " + code})
}

func apiErr(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []map[string]string{{"reason": reason, "message": msg}}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// now is the fake's clock: strictly increasing, so "newest" is never a tie.
func (s *Server) now() time.Time {
	s.clock = maxTime(s.clock.Add(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond))
	return s.clock
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *Server) deleteLocked(id string) {
	delete(s.files, id)
	for cid, f := range s.files {
		if len(f.Parents) > 0 && f.Parents[0] == id {
			s.deleteLocked(cid)
		}
	}
}

// Tokens lists every refresh and access token handed out, one a line, so
// tests can prove none is printed, logged or kept in plaintext.
func (s *Server) Tokens() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.issued, "\n")
}
