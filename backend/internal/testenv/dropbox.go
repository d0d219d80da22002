package testenv

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// DropboxFake is a local fake of the Dropbox API v2 endpoints PgSafe calls —
// no real Dropbox can be reached from the test machines. It keeps files in
// memory and checks what Dropbox checks: the bearer token on every request,
// JSON bodies on the API host, a header-safe (ASCII) Dropbox-API-Arg and an
// octet-stream body on the content host, upload sessions by ID with the
// offset of every append and of finish, the 150 MiB limit of one request,
// and case-insensitive paths. Its answers, errors included, have the shapes
// Dropbox documents (409 with error_summary, 401 for a bad token, 429 with
// Retry-After). https://www.dropbox.com/developers/documentation/http/documentation
type DropboxFake struct {
	URL   string // both the API and the content host, and the OAuth server
	Token string // an access token it accepts besides those it issues
	// OAuth is the sign-in: GET /oauth2/authorize (needs
	// token_access_type=offline), POST /oauth2/token; Dropbox does not
	// rotate refresh tokens.
	OAuth *oauthFake

	// Email is the account's (users/get_current_account).
	Email string
	// Quota is the account's allocation (users/get_space_usage).
	Quota int64
	// PageSize is how many entries a list_folder page holds (small, so
	// list_folder/continue is used).
	PageSize int

	mu        sync.Mutex
	files     map[string]*dropboxFile // by lower-case path
	folders   map[string]string       // lower-case path → display path
	sessions  map[string]*dropboxSession
	appends   []int          // sizes of the chunks appended, in order
	throttle  int            // the next throttle requests get 429
	lose      map[string]int // endpoint → answers to lose after doing the request
	revoked   bool
	requests  int
	forbidden bool
}

type dropboxFile struct {
	display  string
	data     []byte
	modified time.Time
}

type dropboxSession struct {
	data    []byte
	closed  bool
	started time.Time
}

// Dropbox starts a fake Dropbox on loopback for the test.
func Dropbox(t testing.TB) *DropboxFake {
	t.Helper()
	f := &DropboxFake{Token: "sl." + randomHex(24), Email: "backup.owner@example.com", Quota: 2 << 30, PageSize: 3,
		files: map[string]*dropboxFile{}, folders: map[string]string{}, sessions: map[string]*dropboxSession{}}
	f.OAuth = newOAuthFake("Dropbox", "/oauth2/authorize", "/oauth2/token")
	f.OAuth.need = map[string]string{"token_access_type": "offline"}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Approve opens a sign-in's authorization URL and clicks "Allow" (or
// "Cancel"), as a person would, and returns the text of the page PgSafe
// showed at the end.
func (f *DropboxFake) Approve(authURL string, allow bool) (string, error) {
	return f.OAuth.approve(f.URL, authURL, allow)
}

// Client is an HTTP client that sends the fake's token, as an oauth2
// client would.
func (f *DropboxFake) Client() *http.Client {
	return &http.Client{Transport: bearer{f.Token, http.DefaultTransport}}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Throttle makes the next n requests answer 429 with Retry-After: 1.
func (f *DropboxFake) Throttle(n int) { f.mu.Lock(); f.throttle = n; f.mu.Unlock() }

// LoseAnswers makes the next n requests to endpoint ("files/upload_session/append_v2")
// take effect and then drop the connection without an answer, as a network
// failure after the request arrived does.
func (f *DropboxFake) LoseAnswers(endpoint string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lose == nil {
		f.lose = map[string]int{}
	}
	f.lose[endpoint] = n
}

// Revoke makes every request answer 401, as after the user revoked the app.
func (f *DropboxFake) Revoke() { f.mu.Lock(); f.revoked = true; f.mu.Unlock(); f.OAuth.revoke() }

// Forbid makes every request answer 403 (the app may not use the account).
func (f *DropboxFake) Forbid() { f.mu.Lock(); f.forbidden = true; f.mu.Unlock() }

// Sessions is how many upload sessions were started and not finished.
func (f *DropboxFake) Sessions() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sessions) }

// Appends returns the sizes of the chunks appended to sessions so far.
func (f *DropboxFake) Appends() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.appends...)
}

// Requests is how many requests the fake answered.
func (f *DropboxFake) Requests() int { f.mu.Lock(); defer f.mu.Unlock(); return f.requests }

// File returns a file's content (path as in Dropbox, e.g. "/PgSafe/x").
func (f *DropboxFake) File(p string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[strings.ToLower(p)]
	if !ok {
		return nil, false
	}
	return file.data, true
}

// Files returns the paths of every file, sorted.
func (f *DropboxFake) Files() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, file := range f.files {
		out = append(out, file.display)
	}
	sort.Strings(out)
	return out
}

func dropboxError(w http.ResponseWriter, status int, summary string, errBody any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error_summary": summary + "/..", "error": errBody})
}

func (f *DropboxFake) serve(w http.ResponseWriter, r *http.Request) {
	if f.OAuth.handle(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "Error in call to API function: expected POST", 400)
		return
	}
	endpoint := strings.TrimPrefix(r.URL.Path, "/2/")
	var arg map[string]any
	content := endpoint == "files/upload" || endpoint == "files/download" || strings.HasPrefix(endpoint, "files/upload_session/")
	var body []byte
	if content {
		h := r.Header.Get("Dropbox-API-Arg")
		for _, c := range h {
			if c > 0x7e {
				http.Error(w, "Error in call to API function: Dropbox-API-Arg must be HTTP header safe (escape non-ASCII as \\u)", 400)
				return
			}
		}
		if err := json.Unmarshal([]byte(h), &arg); err != nil {
			http.Error(w, "Error in call to API function: could not decode Dropbox-API-Arg", 400)
			return
		}
		if endpoint != "files/download" && r.Header.Get("Content-Type") != "application/octet-stream" {
			http.Error(w, "Error in call to API function: bad Content-Type, expected application/octet-stream", 400)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 150<<20+1))
		if err != nil {
			return
		}
		if len(b) > 150<<20 {
			http.Error(w, "Error in call to API function: request body too large (at most 150 MiB)", 400)
			return
		}
		body = b
	} else {
		b, _ := io.ReadAll(r.Body)
		if (endpoint == "users/get_space_usage" || endpoint == "users/get_current_account") && (len(b) == 0 || string(b) == "null") {
			// no argument
		} else if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &arg) != nil {
			http.Error(w, "Error in call to API function: bad JSON body or Content-Type", 400)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	switch {
	case !f.authorized(r):
		dropboxError(w, 401, "invalid_access_token", map[string]string{".tag": "invalid_access_token"})
		return
	case f.revoked && r.Header.Get("Authorization") == "Bearer "+f.Token:
		dropboxError(w, 401, "expired_access_token", map[string]string{".tag": "expired_access_token"})
		return
	case f.forbidden:
		dropboxError(w, 403, "invalid_account_type", map[string]string{".tag": "invalid_account_type"})
		return
	case f.throttle > 0:
		f.throttle--
		w.Header().Set("Retry-After", "1")
		dropboxError(w, 429, "too_many_requests", map[string]string{".tag": "too_many_requests"})
		return
	}
	if f.lose[endpoint] > 0 {
		f.lose[endpoint]--
		w = lostAnswer{w}
		defer func() {
			if conn, _, err := http.NewResponseController(w.(lostAnswer).ResponseWriter).Hijack(); err == nil {
				conn.Close()
			}
		}()
	}
	switch endpoint {
	case "files/upload":
		f.commit(w, arg, body)
	case "files/upload_session/start":
		id := "AAAA" + randomHex(16)
		f.sessions[id] = &dropboxSession{data: body, started: time.Now(), closed: arg["close"] == true}
		writeJSON(w, map[string]string{"session_id": id})
	case "files/upload_session/append_v2":
		s, ok := f.session(w, arg["cursor"])
		if !ok {
			return
		}
		f.appends = append(f.appends, len(body))
		s.data = append(s.data, body...)
		s.closed = arg["close"] == true
		writeJSON(w, nil)
	case "files/upload_session/finish":
		s, ok := f.session(w, arg["cursor"])
		if !ok {
			return
		}
		commit, _ := arg["commit"].(map[string]any)
		if f.commit(w, commit, append(s.data, body...)) {
			delete(f.sessions, cursorID(arg["cursor"]))
		}
	case "files/download":
		file, ok := f.files[strings.ToLower(str(arg["path"]))]
		if !ok {
			dropboxError(w, 409, "path/not_found", map[string]any{".tag": "path", "path": map[string]string{".tag": "not_found"}})
			return
		}
		meta, _ := json.Marshal(f.meta(file))
		w.Header().Set("Dropbox-API-Result", string(meta))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(file.data)
	case "files/get_metadata":
		p := strings.ToLower(str(arg["path"]))
		if file, ok := f.files[p]; ok {
			writeJSON(w, f.meta(file))
		} else if d, ok := f.folders[p]; ok {
			writeJSON(w, map[string]any{".tag": "folder", "name": path.Base(d), "path_display": d, "path_lower": p})
		} else {
			dropboxError(w, 409, "path/not_found", map[string]any{".tag": "path", "path": map[string]string{".tag": "not_found"}})
		}
	case "files/delete_v2":
		p := strings.ToLower(str(arg["path"]))
		file, ok := f.files[p]
		if !ok {
			dropboxError(w, 409, "path_lookup/not_found", map[string]any{".tag": "path_lookup", "path_lookup": map[string]string{".tag": "not_found"}})
			return
		}
		delete(f.files, p)
		writeJSON(w, map[string]any{"metadata": f.meta(file)})
	case "files/list_folder":
		p := strings.ToLower(str(arg["path"]))
		if _, ok := f.files[p]; ok {
			dropboxError(w, 409, "path/not_folder", map[string]any{".tag": "path", "path": map[string]string{".tag": "not_folder"}})
			return
		}
		if _, ok := f.folders[p]; !ok && p != "" {
			dropboxError(w, 409, "path/not_found", map[string]any{".tag": "path", "path": map[string]string{".tag": "not_found"}})
			return
		}
		var entries []any
		for lp, d := range f.folders {
			if strings.HasPrefix(lp, p+"/") && (arg["recursive"] == true || path.Dir(lp) == p) {
				entries = append(entries, map[string]any{".tag": "folder", "name": path.Base(d), "path_display": d, "path_lower": lp})
			}
		}
		for lp, file := range f.files {
			if strings.HasPrefix(lp, p+"/") && (arg["recursive"] == true || path.Dir(lp) == p) {
				entries = append(entries, f.meta(file))
			}
		}
		snapshot, _ := json.Marshal(entries)
		f.listPage(w, snapshot, 0)
	case "files/list_folder/continue":
		var c struct {
			Entries json.RawMessage
			Next    int
		}
		b, err := hex.DecodeString(str(arg["cursor"]))
		if err != nil || json.Unmarshal(b, &c) != nil {
			dropboxError(w, 409, "reset", map[string]string{".tag": "reset"})
			return
		}
		f.listPage(w, c.Entries, c.Next)
	case "users/get_current_account":
		writeJSON(w, map[string]any{"account_id": "dbid:fake", "email": f.Email, "name": map[string]string{"display_name": "Backup Owner"}})
	case "users/get_space_usage":
		var used int64
		for _, file := range f.files {
			used += int64(len(file.data))
		}
		writeJSON(w, map[string]any{"used": used, "allocation": map[string]any{".tag": "individual", "allocated": f.Quota}})
	default:
		http.Error(w, "Error in call to API function: unknown endpoint "+endpoint, 400)
	}
}

// listPage answers one page of entries from next on; the cursor carries the
// rest (a real cursor is opaque too).
func (f *DropboxFake) listPage(w http.ResponseWriter, snapshot json.RawMessage, next int) {
	var entries []any
	json.Unmarshal(snapshot, &entries)
	end := min(next+f.PageSize, len(entries))
	cursor, _ := json.Marshal(map[string]any{"Entries": snapshot, "Next": end})
	writeJSON(w, map[string]any{"entries": append([]any{}, entries[next:end]...), "cursor": hex.EncodeToString(cursor), "has_more": end < len(entries)})
}

// session finds a cursor's session and checks its offset.
func (f *DropboxFake) session(w http.ResponseWriter, cursor any) (*dropboxSession, bool) {
	c, _ := cursor.(map[string]any)
	s, ok := f.sessions[cursorID(cursor)]
	if !ok {
		dropboxError(w, 409, "not_found", map[string]string{".tag": "not_found"})
		return nil, false
	}
	off, _ := c["offset"].(float64)
	if int64(off) != int64(len(s.data)) {
		dropboxError(w, 409, "incorrect_offset", map[string]any{".tag": "incorrect_offset", "correct_offset": len(s.data)})
		return nil, false
	}
	if s.closed {
		dropboxError(w, 409, "closed", map[string]string{".tag": "closed"})
		return nil, false
	}
	return s, true
}

func cursorID(cursor any) string {
	c, _ := cursor.(map[string]any)
	return str(c["session_id"])
}

// commit stores data at commit's path, as upload and finish do.
func (f *DropboxFake) commit(w http.ResponseWriter, commit map[string]any, data []byte) bool {
	p := str(commit["path"])
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		dropboxError(w, 409, "path/malformed_path", map[string]any{".tag": "path", "reason": map[string]string{".tag": "malformed_path"}})
		return false
	}
	lp := strings.ToLower(p)
	if _, ok := f.folders[lp]; ok {
		dropboxError(w, 409, "path/conflict/folder", map[string]any{".tag": "path", "reason": map[string]any{".tag": "conflict"}})
		return false
	}
	if _, ok := f.files[lp]; ok && commit["mode"] != "overwrite" {
		dropboxError(w, 409, "path/conflict/file", map[string]any{".tag": "path", "reason": map[string]any{".tag": "conflict"}})
		return false
	}
	var used int64
	for q, file := range f.files {
		if q != lp {
			used += int64(len(file.data))
		}
	}
	if used+int64(len(data)) > f.Quota {
		dropboxError(w, 409, "path/insufficient_space", map[string]any{".tag": "path", "reason": map[string]any{".tag": "insufficient_space"}})
		return false
	}
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if _, ok := f.files[strings.ToLower(d)]; ok {
			dropboxError(w, 409, "path/conflict/file", map[string]any{".tag": "path", "reason": map[string]any{".tag": "conflict"}})
			return false
		}
		if _, ok := f.folders[strings.ToLower(d)]; !ok {
			f.folders[strings.ToLower(d)] = d
		}
	}
	file := &dropboxFile{display: p, data: data, modified: time.Now().UTC().Truncate(time.Second)}
	f.files[lp] = file
	writeJSON(w, f.meta(file))
	return true
}

func (f *DropboxFake) meta(file *dropboxFile) map[string]any {
	return map[string]any{".tag": "file", "name": path.Base(file.display), "path_display": file.display,
		"path_lower": strings.ToLower(file.display), "id": "id:" + hex.EncodeToString([]byte(strings.ToLower(file.display)))[:16],
		"size": len(file.data), "server_modified": file.modified.Format(time.RFC3339), "client_modified": file.modified.Format(time.RFC3339),
		"rev": fmt.Sprintf("%x", file.modified.UnixNano())}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func str(v any) string { s, _ := v.(string); return s }

func (f *DropboxFake) authorized(r *http.Request) bool {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && (at == f.Token || f.OAuth.valid(at))
}

// lostAnswer swallows an answer: the connection is closed instead.
type lostAnswer struct{ http.ResponseWriter }

func (lostAnswer) Header() http.Header         { return http.Header{} }
func (lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (lostAnswer) WriteHeader(int)             {}
