package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// OneDriveFake is a local fake of the Microsoft Graph endpoints PgSafe
// calls for OneDrive — no Microsoft service can be reached from the test
// machines. It keeps one drive in memory and checks what Graph checks: the
// bearer token on Graph URLs and none on the pre-authenticated upload URL,
// item paths (case-insensitive), upload sessions by URL with every byte
// range's Content-Range against what was received (416 otherwise), ranges
// other than the last a multiple of 320 KiB and at most 60 MiB, the same
// total in every range, conflictBehavior, and the quota. Answers have
// Graph's documented shapes ({"error":{"code":…}}, 202 with
// nextExpectedRanges, 429 with Retry-After, @odata.nextLink pages).
// https://learn.microsoft.com/graph/api/resources/driveitem
type OneDriveFake struct {
	URL      string // the server; Graph is URL + "/v1.0"
	GraphURL string
	Token    string // an access token it accepts besides those it issues
	// OAuth is the sign-in (Microsoft identity platform): GET
	// /common/oauth2/v2.0/authorize (needs the scope offline_access), POST
	// /common/oauth2/v2.0/token; refresh tokens rotate.
	OAuth *oauthFake

	Email    string // the user's (GET /me)
	Quota    int64
	PageSize int // children per page, small so @odata.nextLink is used

	mu         sync.Mutex
	files      map[string]*oneDriveFile // by lower-case path ("/a/b")
	folders    map[string]string        // lower-case path → display path
	sessions   map[string]*oneDriveSession
	ranges     []int
	throttle   int
	revoked    bool
	tokenLeaks int
	nextID     int
}

type oneDriveFile struct {
	display  string
	data     []byte
	modified time.Time
	id       string
}

type oneDriveSession struct {
	path, behavior string
	data           []byte
	total          int64
}

// OneDrive starts a fake OneDrive (Microsoft Graph) on loopback.
func OneDrive(t testing.TB) *OneDriveFake {
	t.Helper()
	f := &OneDriveFake{Token: "EwB" + randomHex(24), Email: "backup.owner@example.com", Quota: 5 << 30, PageSize: 3,
		files: map[string]*oneDriveFile{}, folders: map[string]string{}, sessions: map[string]*oneDriveSession{}}
	f.OAuth = newOAuthFake("OneDrive", "/common/oauth2/v2.0/authorize", "/common/oauth2/v2.0/token")
	f.OAuth.scope, f.OAuth.rotate = "offline_access", true
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL, f.GraphURL = srv.URL, srv.URL+"/v1.0"
	return f
}

// Approve opens a sign-in's authorization URL and clicks "Allow" (or
// "Cancel"), as a person would, and returns the text of the page PgSafe
// showed at the end.
func (f *OneDriveFake) Approve(authURL string, allow bool) (string, error) {
	return f.OAuth.approve(f.URL, authURL, allow)
}

// Client sends the fake's token, as an oauth2 client would.
func (f *OneDriveFake) Client() *http.Client {
	return &http.Client{Transport: bearer{f.Token, http.DefaultTransport}}
}

func (f *OneDriveFake) Throttle(n int) { f.mu.Lock(); f.throttle = n; f.mu.Unlock() }
func (f *OneDriveFake) Revoke()        { f.mu.Lock(); f.revoked = true; f.mu.Unlock(); f.OAuth.revoke() }

// Sessions is how many upload sessions are neither complete nor cancelled.
func (f *OneDriveFake) Sessions() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sessions) }

// Ranges returns the sizes of the byte ranges received by upload sessions.
func (f *OneDriveFake) Ranges() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.ranges...)
}

// TokenLeaks is how many requests to a pre-authenticated (upload or
// download) URL carried an Authorization header.
func (f *OneDriveFake) TokenLeaks() int { f.mu.Lock(); defer f.mu.Unlock(); return f.tokenLeaks }

// File returns a file's content ("/PgSafe/x").
func (f *OneDriveFake) File(p string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[strings.ToLower(p)]
	if !ok {
		return nil, false
	}
	return file.data, true
}

// Files returns the paths of every file, sorted.
func (f *OneDriveFake) Files() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, file := range f.files {
		out = append(out, file.display)
	}
	sort.Strings(out)
	return out
}

func graphError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func (f *OneDriveFake) serve(w http.ResponseWriter, r *http.Request) {
	if f.OAuth.handle(w, r) {
		return
	}
	var body []byte
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, 61<<20))
		if err != nil {
			return
		}
		body = b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Retry-After", "1")
		graphError(w, 429, "activityLimitReached", "The request has been throttled")
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/upload/"); ok {
		f.upload(w, r, rest, body)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/download/"); ok {
		if r.Header.Get("Authorization") != "" {
			f.tokenLeaks++
		}
		for _, file := range f.files {
			if file.id == rest && r.URL.Query().Get("tempauth") == "ok" {
				w.Write(file.data)
				return
			}
		}
		graphError(w, 404, "itemNotFound", "The resource could not be found.")
		return
	}
	switch {
	case !f.authorized(r):
		graphError(w, 401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
		return
	case f.revoked && r.Header.Get("Authorization") == "Bearer "+f.Token:
		graphError(w, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return
	}
	ep := strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0")
	if ep == "/me" && r.Method == http.MethodGet {
		writeJSON(w, map[string]any{"id": "user1", "displayName": "Backup Owner", "mail": f.Email, "userPrincipalName": f.Email})
		return
	}
	if ep == "/me/drive" && r.Method == http.MethodGet {
		used := f.used("")
		writeJSON(w, map[string]any{"id": "drive1", "driveType": "personal",
			"quota": map[string]any{"total": f.Quota, "used": used, "remaining": f.Quota - used, "deleted": 0, "state": "normal"}})
		return
	}
	rest, ok := strings.CutPrefix(ep, "/me/drive/root")
	if !ok {
		graphError(w, 400, "invalidRequest", "unknown resource "+ep)
		return
	}
	p, action := "", rest
	if strings.HasPrefix(rest, ":") {
		inner := rest[1:]
		if i := strings.Index(inner, ":"); i >= 0 {
			p, action = inner[:i], inner[i+1:]
		} else {
			p, action = inner, ""
		}
		u, err := url.PathUnescape(p)
		if err != nil || !strings.HasPrefix(u, "/") || path.Clean(u) != u || strings.ContainsAny(u, `"*:<>?\|`) {
			graphError(w, 400, "invalidRequest", "Invalid path")
			return
		}
		p = u
	}
	lp := strings.ToLower(p)
	switch {
	case action == "" && r.Method == http.MethodGet:
		if file, ok := f.files[lp]; ok {
			writeJSON(w, f.fileItem(file, true))
		} else if d, ok := f.folders[lp]; ok || lp == "" {
			writeJSON(w, map[string]any{"id": "folder" + d, "name": path.Base(d), "folder": map[string]int{"childCount": 0}})
		} else {
			graphError(w, 404, "itemNotFound", "The resource could not be found.")
		}
	case action == "" && r.Method == http.MethodDelete:
		if _, ok := f.files[lp]; ok {
			delete(f.files, lp)
		} else if _, ok := f.folders[lp]; ok && lp != "" {
			delete(f.folders, lp)
			for q := range f.files {
				if strings.HasPrefix(q, lp+"/") {
					delete(f.files, q)
				}
			}
		} else {
			graphError(w, 404, "itemNotFound", "The resource could not be found.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case action == "/children" && r.Method == http.MethodGet:
		f.children(w, r, lp)
	case action == "/content" && r.Method == http.MethodPut:
		if len(body) > 4<<20 {
			graphError(w, 413, "requestTooLarge", "Use an upload session for files larger than 4 MB.")
			return
		}
		f.store(w, p, r.URL.Query().Get("@microsoft.graph.conflictBehavior"), body)
	case action == "/createUploadSession" && r.Method == http.MethodPost:
		var in struct {
			Item map[string]any `json:"item"`
		}
		if r.Header.Get("Content-Type") != "application/json" || (len(body) > 0 && json.Unmarshal(body, &in) != nil) {
			graphError(w, 400, "invalidRequest", "Invalid request body")
			return
		}
		behavior, _ := in.Item["@microsoft.graph.conflictBehavior"].(string)
		f.nextID++
		id := fmt.Sprintf("s%d%s", f.nextID, randomHex(8))
		f.sessions[id] = &oneDriveSession{path: p, behavior: behavior, total: -1}
		writeJSON(w, map[string]any{"uploadUrl": f.URL + "/upload/" + id, "expirationDateTime": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339),
			"nextExpectedRanges": []string{"0-"}})
	default:
		graphError(w, 400, "invalidRequest", "unsupported "+r.Method+" "+ep)
	}
}

func (f *OneDriveFake) children(w http.ResponseWriter, r *http.Request, lp string) {
	if _, ok := f.folders[lp]; !ok && lp != "" {
		if _, isFile := f.files[lp]; isFile {
			graphError(w, 400, "invalidRequest", "The item is not a folder.")
		} else {
			graphError(w, 404, "itemNotFound", "The resource could not be found.")
		}
		return
	}
	var items []map[string]any
	for q, d := range f.folders {
		if path.Dir(q) == lp || (lp == "" && path.Dir(q) == "/") {
			items = append(items, map[string]any{"id": "folder" + d, "name": path.Base(d), "folder": map[string]int{"childCount": 1}})
		}
	}
	for q, file := range f.files {
		if path.Dir(q) == lp || (lp == "" && path.Dir(q) == "/") {
			items = append(items, f.fileItem(file, false))
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i]["name"].(string) < items[j]["name"].(string) })
	skip, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	top := f.PageSize
	if t, err := strconv.Atoi(r.URL.Query().Get("$top")); err == nil && t < top {
		top = t
	}
	end := min(skip+top, len(items))
	out := map[string]any{"value": append([]map[string]any{}, items[min(skip, end):end]...)}
	if end < len(items) {
		q := r.URL.Query()
		q.Set("$skiptoken", strconv.Itoa(end))
		out["@odata.nextLink"] = f.URL + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, out)
}

// upload takes one byte range of a session (PUT) or cancels it (DELETE).
func (f *OneDriveFake) upload(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	s, ok := f.sessions[id]
	if !ok {
		graphError(w, 404, "itemNotFound", "The upload session was not found.")
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.tokenLeaks++
		graphError(w, 401, "unauthenticated", "Do not send an Authorization header to the upload URL.")
		return
	}
	if r.Method == http.MethodDelete {
		delete(f.sessions, id)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var start, end, total int64
	if n, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total); n != 3 || err != nil || end < start || end >= total {
		graphError(w, 400, "invalidRange", "The Content-Range header is missing or malformed.")
		return
	}
	if int64(len(body)) != end-start+1 || r.ContentLength != int64(len(body)) {
		graphError(w, 400, "invalidRange", "The Content-Range does not match the Content-Length.")
		return
	}
	if (s.total >= 0 && total != s.total) || start != int64(len(s.data)) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "invalidRange", "message": "fragment overlaps or skips"},
			"nextExpectedRanges": []string{fmt.Sprintf("%d-", len(s.data))}})
		return
	}
	if end+1 < total && len(body)%(320<<10) != 0 || len(body) > 60<<20 {
		graphError(w, 400, "invalidRange", "Fragments must be a multiple of 320 KiB, at most 60 MiB.")
		return
	}
	s.total = total
	s.data = append(s.data, body...)
	f.ranges = append(f.ranges, len(body))
	if end+1 < total {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"expirationDateTime": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339),
			"nextExpectedRanges": []string{fmt.Sprintf("%d-%d", end+1, total-1)}})
		return
	}
	if f.store(w, s.path, s.behavior, s.data) {
		delete(f.sessions, id)
	}
}

// store writes a file as a completed upload does: 201 for a new one, 200
// for a replaced one.
func (f *OneDriveFake) store(w http.ResponseWriter, p, behavior string, data []byte) bool {
	lp := strings.ToLower(p)
	if _, ok := f.folders[lp]; ok {
		graphError(w, 409, "nameAlreadyExists", "A folder with this name exists.")
		return false
	}
	old, exists := f.files[lp]
	if exists && behavior != "replace" {
		graphError(w, 409, "nameAlreadyExists", "The specified item name already exists.")
		return false
	}
	if f.used(lp)+int64(len(data)) > f.Quota {
		graphError(w, 507, "quotaLimitReached", "Insufficient Space Available")
		return false
	}
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if _, ok := f.files[strings.ToLower(d)]; ok {
			graphError(w, 409, "nameAlreadyExists", "A file is in the way of the folder.")
			return false
		}
		if _, ok := f.folders[strings.ToLower(d)]; !ok {
			f.folders[strings.ToLower(d)] = d
		}
	}
	f.nextID++
	file := &oneDriveFile{display: p, data: data, modified: time.Now().UTC().Truncate(time.Second), id: fmt.Sprintf("F%d", f.nextID)}
	f.files[lp] = file
	w.Header().Set("Content-Type", "application/json")
	if exists && old != nil {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	json.NewEncoder(w).Encode(f.fileItem(file, false))
	return true
}

func (f *OneDriveFake) used(except string) int64 {
	var n int64
	for q, file := range f.files {
		if q != except {
			n += int64(len(file.data))
		}
	}
	return n
}

func (f *OneDriveFake) fileItem(file *oneDriveFile, withURL bool) map[string]any {
	it := map[string]any{"id": file.id, "name": path.Base(file.display), "size": len(file.data),
		"lastModifiedDateTime": file.modified.Format(time.RFC3339), "file": map[string]string{"mimeType": "application/octet-stream"}}
	if withURL {
		it["@microsoft.graph.downloadUrl"] = f.URL + "/download/" + file.id + "?tempauth=ok"
	}
	return it
}

func (f *OneDriveFake) authorized(r *http.Request) bool {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && (at == f.Token || f.OAuth.valid(at))
}
