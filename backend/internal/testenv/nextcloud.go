package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// NextcloudServer fakes the WebDAV endpoint of Nextcloud (and ownCloud's
// new one) in front of a real Apache mod_dav (WebDAV): no Nextcloud runs
// here (Debian does not package it). Written from Nextcloud's developer
// manual (client APIs, WebDAV, chunking v2):
//
//   - /remote.php/dav/files/USER/… is forwarded to Apache's folder (its
//     root), with Destination headers and PROPFIND hrefs translated, so
//     PROPFIND, GET, PUT, MKCOL, MOVE and DELETE behave as Apache's do;
//   - /remote.php/dav/uploads/USER/ID/ is implemented here: MKCOL the
//     upload folder, PUT chunks 1, 2, … (1 to 10000), MOVE ID/.file onto
//     the destination (the chunks assembled in number order, written to
//     Apache with one PUT, which Apache renames into place: the file
//     appears whole), DELETE the folder.
//
// It is strict where a client can go wrong: every uploads request needs a
// Destination under this server's files/USER/, the same on each one;
// chunks must come in order; all chunks but the last are 5 MiB to 5 GiB;
// MOVE .file needs OC-Total-Length equal to the bytes received. Like a
// proxy with nginx's client_max_body_size, any request body over Limit is
// refused with 413 Request Entity Too Large.
type NextcloudServer struct {
	// URL is the user's root folder: http://127.0.0.1:PORT/remote.php/dav/files/USER/
	URL            string
	User, Password string
	// Limit is the largest request body taken.
	Limit int64
	// Stored gets "ID/N" as chunk N of upload ID is stored (the oldest
	// are dropped when nobody reads).
	Stored chan string

	dav  *WebDAVServer
	srv  *httptest.Server
	mu   sync.Mutex
	ups  map[string]*ncUpload
	logs []string
}

type ncUpload struct {
	dest   string
	chunks [][]byte
}

const (
	ncMinChunk = 5 << 20
	ncMaxChunk = 5 << 30
)

// Nextcloud starts the fake in front of dav (the user is dav's), taking
// request bodies up to limit bytes. It stops at cleanup.
func Nextcloud(t testing.TB, dav *WebDAVServer, limit int64) *NextcloudServer {
	t.Helper()
	if dav.CertSHA256 != "" {
		t.Fatal("testenv: Nextcloud fronts a plain-HTTP WebDAV")
	}
	n := &NextcloudServer{User: dav.User, Password: dav.Password, Limit: limit, dav: dav,
		ups: map[string]*ncUpload{}, Stored: make(chan string, 64)}
	n.srv = httptest.NewServer(n)
	t.Cleanup(n.srv.Close)
	n.URL = n.srv.URL + n.filesPrefix()
	return n
}

func (n *NextcloudServer) filesPrefix() string   { return "/remote.php/dav/files/" + n.User + "/" }
func (n *NextcloudServer) uploadsPrefix() string { return "/remote.php/dav/uploads/" + n.User + "/" }

// Uploads are the upload folders that exist, sorted.
func (n *NextcloudServer) Uploads() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ids []string
	for id := range n.ups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Log is the uploads requests answered with success, as "METHOD ID[/FILE]".
func (n *NextcloudServer) Log() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.logs...)
}

func (n *NextcloudServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := n.readBody(w, r)
	if !ok {
		return
	}
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, n.filesPrefix()):
		n.forward(w, r, body)
	case strings.HasPrefix(p, n.uploadsPrefix()):
		if u, pw, ok := r.BasicAuth(); !ok || u != n.User || pw != n.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="Nextcloud"`)
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		n.upload(w, r, strings.TrimPrefix(p, n.uploadsPrefix()), body)
	default:
		http.NotFound(w, r)
	}
}

// readBody reads the request body, answering 413 over Limit (after
// reading it all, as a proxy does, so the client sees the answer).
func (n *NextcloudServer) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, n.Limit+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if int64(len(b)) > n.Limit {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return b, true
}

// forward passes a files/ request on to Apache.
func (n *NextcloudServer) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	target, _ := url.Parse(n.dav.URL)
	if d := r.Header.Get("Destination"); d != "" {
		ad, ok := n.apacheURL(d)
		if !ok {
			http.Error(w, "Destination is not on this server", http.StatusBadGateway)
			return
		}
		r.Header.Set("Destination", ad)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = target.Path + strings.TrimPrefix(pr.In.URL.Path, n.filesPrefix())
			pr.Out.URL.RawPath = ""
			pr.Out.Host = ""
			pr.Out.Body, pr.Out.ContentLength = http.NoBody, 0
			if len(body) > 0 {
				pr.Out.Body, pr.Out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			}
			pr.Out.Header.Del("Transfer-Encoding")
		},
		ModifyResponse: func(resp *http.Response) error {
			if l := resp.Header.Get("Location"); l != "" {
				resp.Header.Set("Location", strings.Replace(l, target.Path, n.filesPrefix(), 1))
			}
			if resp.StatusCode != http.StatusMultiStatus {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			b = bytes.ReplaceAll(b, []byte(">"+target.Path), []byte(">"+n.filesPrefix()))
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	}
	rp.ServeHTTP(w, r)
}

// apacheURL maps a full URL under files/USER/ on this server to Apache's.
func (n *NextcloudServer) apacheURL(dest string) (string, bool) {
	u, err := url.Parse(dest)
	if err == nil && u.Host == "" && strings.HasPrefix(dest, "/") { // a path on this server
		u.Scheme, u.Host = "http", strings.TrimPrefix(n.srv.URL, "http://")
	}
	if err != nil || u.Scheme+"://"+u.Host != n.srv.URL || !strings.HasPrefix(u.Path, n.filesPrefix()) {
		return "", false
	}
	a, _ := url.Parse(n.dav.URL)
	a.Path += strings.TrimPrefix(u.Path, n.filesPrefix())
	return a.String(), true
}

// upload answers a request under uploads/USER/ (rest: "ID", "ID/N" or
// "ID/.file").
func (n *NextcloudServer) upload(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	id, file, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	if id == "" || strings.Contains(file, "/") {
		http.Error(w, "no such upload path", http.StatusNotFound)
		return
	}
	dest := r.Header.Get("Destination")
	fail := func(code int, format string, a ...any) { http.Error(w, fmt.Sprintf(format, a...), code) }
	n.mu.Lock()
	defer n.mu.Unlock()
	up := n.ups[id]
	switch {
	case r.Method == "MKCOL" && file == "":
		if up != nil {
			fail(http.StatusMethodNotAllowed, "the upload folder %s exists", id)
			return
		}
		if _, ok := n.apacheURL(dest); !ok {
			fail(http.StatusBadRequest, "MKCOL of an upload folder needs a Destination under %s%s, not %q", n.srv.URL, n.filesPrefix(), dest)
			return
		}
		n.ups[id] = &ncUpload{dest: dest}
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodDelete && file == "":
		if up == nil {
			fail(http.StatusNotFound, "no upload %s", id)
			return
		}
		delete(n.ups, id)
		w.WriteHeader(http.StatusNoContent)
	case up == nil:
		fail(http.StatusNotFound, "no upload %s", id)
		return
	case dest != up.dest:
		fail(http.StatusBadRequest, "Destination %q is not the upload's %q", dest, up.dest)
		return
	case r.Method == http.MethodPut:
		num, err := strconv.Atoi(file)
		switch {
		case err != nil || num < 1 || num > 10000 || strconv.Itoa(num) != file:
			fail(http.StatusBadRequest, "chunk name %q is not a number from 1 to 10000", file)
			return
		case num != len(up.chunks)+1:
			fail(http.StatusBadRequest, "chunk %d out of order: %d chunks stored", num, len(up.chunks))
			return
		case int64(len(body)) > ncMaxChunk:
			fail(http.StatusBadRequest, "chunk %d is over 5 GiB", num)
			return
		}
		up.chunks = append(up.chunks, body)
		w.WriteHeader(http.StatusCreated)
		select {
		case n.Stored <- id + "/" + file:
		default:
		}
	case r.Method == "MOVE" && file == ".file":
		var total int64
		for i, c := range up.chunks {
			if i < len(up.chunks)-1 && len(c) < ncMinChunk {
				fail(http.StatusBadRequest, "chunk %d is %d bytes: all chunks but the last must be at least 5 MiB", i+1, len(c))
				return
			}
			total += int64(len(c))
		}
		if len(up.chunks) == 0 {
			fail(http.StatusBadRequest, "no chunks")
			return
		}
		if got := r.Header.Get("OC-Total-Length"); got != strconv.FormatInt(total, 10) {
			fail(http.StatusBadRequest, "OC-Total-Length %q, but %d bytes were uploaded", got, total)
			return
		}
		code, err := n.assemble(up)
		if err != nil {
			fail(http.StatusBadGateway, "%v", err)
			return
		}
		if code/100 != 2 {
			fail(code, "assembling onto %s: %d", up.dest, code)
			return
		}
		delete(n.ups, id)
		w.WriteHeader(code)
	default:
		fail(http.StatusMethodNotAllowed, "%s %s is not part of chunked upload", r.Method, rest)
		return
	}
	n.logs = append(n.logs, r.Method+" "+strings.TrimSuffix(id+"/"+file, "/"))
}

// assemble writes the chunks of up, in order, to its destination on
// Apache with one PUT, and returns Apache's status.
func (n *NextcloudServer) assemble(up *ncUpload) (int, error) {
	target, _ := n.apacheURL(up.dest)
	rs := make([]io.Reader, len(up.chunks))
	for i, c := range up.chunks {
		rs[i] = bytes.NewReader(c)
	}
	req, err := http.NewRequest(http.MethodPut, target, io.MultiReader(rs...))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(n.dav.User, n.dav.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
