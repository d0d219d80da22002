package fakegoogle

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// drive serves Drive's endpoints; f is the fault for an upload's chunk or
// status query, if any (those of other endpoints were answered already).
func (s *Server) drive(w http.ResponseWriter, r *http.Request, f *Fault) {
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case p == "/drive/v3/about" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"user": map[string]string{"emailAddress": s.Email, "displayName": "Backup Owner"}})
	case p == "/drive/v3/files" && r.Method == http.MethodGet:
		s.list(w, r)
	case p == "/drive/v3/files" && r.Method == http.MethodPost:
		var meta struct {
			Name     string   `json:"name"`
			MimeType string   `json:"mimeType"`
			Parents  []string `json:"parents"`
		}
		if err := json.NewDecoder(r.Body).Decode(&meta); err != nil || meta.Name == "" {
			apiErr(w, http.StatusBadRequest, "badRequest", "file metadata needs a name")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(meta.Parents) == 0 {
			meta.Parents = []string{"root"}
		}
		if meta.Parents[0] != "root" && s.files[meta.Parents[0]] == nil {
			apiErr(w, http.StatusNotFound, "notFound", "File not found: "+meta.Parents[0]+".")
			return
		}
		f := &File{ID: random(14), Name: meta.Name, Parents: meta.Parents, MimeType: meta.MimeType, Modified: s.now()}
		if f.MimeType == "" {
			f.MimeType = "application/octet-stream"
		}
		s.files[f.ID] = f
		writeJSON(w, http.StatusOK, meta2json(f))
	case strings.HasPrefix(p, "/drive/v3/files/"):
		id := strings.TrimPrefix(p, "/drive/v3/files/")
		s.mu.Lock()
		f := s.files[id]
		if f == nil {
			s.mu.Unlock()
			apiErr(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
			return
		}
		switch r.Method {
		case http.MethodGet:
			data := f.Data
			meta := meta2json(f)
			s.mu.Unlock()
			if q.Get("alt") == "media" {
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				w.Write(data)
				return
			}
			writeJSON(w, http.StatusOK, meta)
		case http.MethodPatch:
			var meta struct {
				Name string `json:"name"`
			}
			json.NewDecoder(r.Body).Decode(&meta)
			if meta.Name != "" {
				f.Name = meta.Name
			}
			f.Modified = s.now()
			out := meta2json(f)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
		case http.MethodDelete:
			s.deleteLocked(id)
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			s.mu.Unlock()
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	case strings.HasPrefix(p, "/upload/drive/v3/files"):
		s.upload(w, r, f)
	default:
		apiErr(w, http.StatusNotFound, "notFound", "no such endpoint")
	}
}

func meta2json(f *File) map[string]any {
	return map[string]any{"kind": "drive#file", "id": f.ID, "name": f.Name, "mimeType": f.MimeType, "parents": f.Parents,
		"size": strconv.Itoa(len(f.Data)), "modifiedTime": f.Modified.Format("2006-01-02T15:04:05.000Z")}
}

// clause is one term of the query syntax PgSafe uses
// (developers.google.com/drive/api/guides/search-files).
var clause = regexp.MustCompile(`^(?:name (=) '((?:[^'\\]|\\.)*)'|'((?:[^'\\]|\\.)*)' in parents|mimeType (=|!=) '((?:[^'\\]|\\.)*)'|trashed = false)$`)

func unquote(s string) string { return strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(s) }

// splitAnd splits q on " and " outside string literals.
func splitAnd(q string) []string {
	var out []string
	in, esc, start := false, false, 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case esc:
			esc = false
		case c == '\\' && in:
			esc = true
		case c == '\'':
			in = !in
		case !in && strings.HasPrefix(q[i:], " and "):
			out = append(out, q[start:i])
			start = i + 5
			i += 4
		}
	}
	return append(out, q[start:])
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var preds []func(*File) bool
	for _, c := range splitAnd(q.Get("q")) {
		m := clause.FindStringSubmatch(c)
		switch {
		case m == nil:
			apiErr(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid Value: q (%q)", c))
			return
		case m[1] == "=":
			name := unquote(m[2])
			preds = append(preds, func(f *File) bool { return f.Name == name })
		case m[3] != "" || strings.HasSuffix(c, "in parents"):
			parent := unquote(m[3])
			preds = append(preds, func(f *File) bool { return len(f.Parents) > 0 && f.Parents[0] == parent })
		case m[4] != "":
			mime, eq := unquote(m[5]), m[4] == "="
			preds = append(preds, func(f *File) bool { return (f.MimeType == mime) == eq })
		}
	}
	size := s.PageMax
	if n, err := strconv.Atoi(q.Get("pageSize")); err == nil && n > 0 && n < size {
		size = n
	}
	s.mu.Lock()
	var all []*File
	for _, f := range s.files {
		ok := true
		for _, p := range preds {
			ok = ok && p(f)
		}
		if ok {
			all = append(all, f)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	from, _ := strconv.Atoi(q.Get("pageToken"))
	out := map[string]any{}
	var page []map[string]any
	for i := from; i < len(all) && i < from+size; i++ {
		page = append(page, meta2json(all[i]))
	}
	if from+size < len(all) {
		out["nextPageToken"] = strconv.Itoa(from + size)
	}
	s.mu.Unlock()
	if page == nil {
		page = []map[string]any{}
	}
	out["files"] = page
	writeJSON(w, http.StatusOK, out)
}

// upload: starting a resumable session, and its chunks.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, f *Fault) {
	q := r.URL.Query()
	if q.Get("uploadType") != "resumable" {
		apiErr(w, http.StatusBadRequest, "badRequest", "PgSafe's fake knows only uploadType=resumable")
		return
	}
	if id := q.Get("upload_id"); id != "" {
		s.chunk(w, r, id, f)
		return
	}
	fileID := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/upload/drive/v3/files"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if fileID == "" || r.Method != http.MethodPatch {
		apiErr(w, http.StatusBadRequest, "badRequest", "PgSafe's fake knows only resumable updates of an existing file (PATCH /upload/drive/v3/files/ID)")
		return
	}
	if s.files[fileID] == nil {
		apiErr(w, http.StatusNotFound, "notFound", "File not found: "+fileID+".")
		return
	}
	id := random(16)
	s.sessions[id] = &session{fileID: fileID}
	w.Header().Set("Location", s.URL+"/upload/drive/v3/files?uploadType=resumable&upload_id="+id)
	w.WriteHeader(http.StatusOK)
}

var contentRange = regexp.MustCompile(`^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$`)

func (s *Server) chunk(w http.ResponseWriter, r *http.Request, id string, f *Fault) {
	if r.Method == http.MethodDelete {
		s.mu.Lock()
		delete(s.sessions, id)
		s.mu.Unlock()
		w.WriteHeader(499)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away mid-chunk: nothing of it is kept
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		apiErr(w, http.StatusNotFound, "notFound", "upload session not found")
		return
	}
	s.maxChunk = max(s.maxChunk, len(body))
	m := contentRange.FindStringSubmatch(r.Header.Get("Content-Range"))
	if m == nil {
		apiErr(w, http.StatusBadRequest, "badContentRange", "Content-Range is malformed: "+r.Header.Get("Content-Range"))
		return
	}
	if m[1] != "" {
		from, _ := strconv.Atoi(m[1])
		to, _ := strconv.Atoi(m[2])
		if from != len(sess.data) || to-from+1 != len(body) {
			apiErr(w, http.StatusBadRequest, "badContentRange", "the chunk does not continue the upload")
			return
		}
	} else if len(body) != 0 {
		apiErr(w, http.StatusBadRequest, "badContentRange", "bytes */N carries no data")
		return
	}
	if m[3] == "*" && len(body)%(256<<10) != 0 {
		apiErr(w, http.StatusBadRequest, "badContentRange", "chunks other than the last must be multiples of 256 KiB")
		return
	}
	if f != nil {
		sess.data = append(sess.data, body[:min(f.Keep, len(body))]...)
		if f.Expire {
			delete(s.sessions, id)
			failWith(w, http.StatusNotFound)
			return
		}
		if f.Status == http.StatusPermanentRedirect {
			s.kept(w, sess)
			return
		}
		failWith(w, f.Status)
		return
	}
	sess.data = append(sess.data, body...)
	total, _ := strconv.Atoi(m[3])
	if m[3] == "*" || len(body) == 0 && total != len(sess.data) {
		// More to come, or a status query ("bytes */N" with no bytes)
		// before all N arrived: what the session holds.
		s.kept(w, sess)
		return
	}
	if total != len(sess.data) {
		apiErr(w, http.StatusBadRequest, "badContentRange", "the upload's total does not match what was sent")
		return
	}
	delete(s.sessions, id)
	file := s.files[sess.fileID]
	if file == nil {
		apiErr(w, http.StatusNotFound, "notFound", "File not found: "+sess.fileID+".")
		return
	}
	file.Data, file.Modified = sess.data, s.now()
	writeJSON(w, http.StatusOK, meta2json(file))
}

// kept answers 308 with the Range the session holds (none when empty).
func (s *Server) kept(w http.ResponseWriter, sess *session) {
	if len(sess.data) > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(sess.data)-1))
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}
