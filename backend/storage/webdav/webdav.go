// Package webdav is a storage in a folder of a WebDAV server: Nextcloud,
// ownCloud, a NAS box, Apache's mod_dav. The WebDAV requests are made by
// github.com/emersion/go-webdav; the upload itself is a plain streaming PUT,
// or Nextcloud's chunked upload on its DAV endpoint (chunked.go).
//
// A Put is all-or-nothing: it streams the object (chunked transfer
// encoding, flat memory) to a ".pgsafe-tmp-" name in the object's folder,
// then MOVEs it over the final name with Overwrite: T, the server's own
// rename. A failed or cancelled Put deletes its temporary file (best effort:
// not possible when the server is gone; List never shows such files, and
// RemoveTemp sweeps them). On Nextcloud's (ownCloud's) endpoint
// .../remote.php/dav/files/USER/..., an object bigger than one chunk is sent
// with chunking v2 instead: chunks into an upload folder named after the
// temporary file, which stays (empty) as the sign RemoveTemp finds, and a
// MOVE of the folder's ".file" onto the final name, the server's commit.
//
// HTTPS is checked against the system's trusted certificates, or against a
// pinned certificate (its SHA-256) for a server with a self-signed one.
// Free space comes from the RFC 4331 quota properties when the server
// offers them (Nextcloud, ownCloud do; Apache does not). Errors say what to
// check, and never contain the password.
package webdav

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	gowebdav "github.com/emersion/go-webdav"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Config is a folder on a WebDAV server and how to log in.
type Config struct {
	// URL is the folder: http(s)://host[:port]/path/ (for Nextcloud,
	// https://host/remote.php/dav/files/USER/FOLDER/). It must exist.
	URL      string
	User     string
	Password string
	// CertSHA256 pins the server's certificate (hex SHA-256 of it, colons
	// and case ignored): for a server with a self-signed certificate. Empty:
	// the system's trusted certificates decide.
	CertSHA256 string
}

// String names the folder without secrets: "user@host/path".
func (c Config) String() string {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return "(invalid address)"
	}
	where := u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	if c.User != "" {
		where = c.User + "@" + where
	}
	if u.Scheme == "https" {
		return "https://" + where
	}
	return "http://" + where
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "webdav.Config(" + c.String() + ")" }

// Format keeps every verb (%v, %+v, %d, %x, …) from printing secrets.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue keeps slog from printing secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ParseURL checks a folder address: http or https, a host, no user or
// password in it (they have their own fields), no query. It returns the
// address with a trailing slash.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a web address", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("the address must start with https:// (or http://), not %q", u.Scheme+":")
	case u.Host == "":
		return nil, fmt.Errorf("the address %q names no server", raw)
	case u.User != nil:
		return nil, errors.New("the address must not contain a user or password: enter them in their own fields")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("the address must not contain ? or #")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// NormalizeFingerprint returns a certificate's SHA-256 as 64 lower-case hex
// digits, from any of the usual spellings (colons, spaces, upper case, a
// "SHA256:" prefix).
func NormalizeFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.EqualFold(s[:i], "sha256") {
		s = s[i+1:]
	}
	s = strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
		return "", errors.New("a certificate fingerprint is 64 hexadecimal digits (SHA-256)")
	}
	return s, nil
}

// Fingerprint is a certificate's SHA-256 in the form NormalizeFingerprint
// returns.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// apacheTemp starts the files Apache's mod_dav_fs receives a PUT into
// before renaming them: List never shows them.
const apacheTemp = ".davfs.tmp"

// WebDAV is a folder on a WebDAV server.
type WebDAV struct {
	cfg  *Config // a pointer, so that printing a WebDAV never prints the secret
	base *url.URL
	hc   *doer
	c    *gowebdav.Client
	// uploads is Nextcloud's uploads folder for chunked uploads; nil on
	// other servers.
	uploads *url.URL
}

// New checks the address, logs in and checks that the folder exists: it is
// not created (a storage that created its folder would fill the wrong disk
// when the address has a typo or a share is not mounted).
func New(ctx context.Context, cfg Config) (*WebDAV, error) {
	base, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	cfg.URL = base.String()
	pin := ""
	if cfg.CertSHA256 != "" {
		if pin, err = NormalizeFingerprint(cfg.CertSHA256); err != nil {
			return nil, err
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 15 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 5 * time.Minute // after a whole upload the server may still be writing it
	tr.TLSClientConfig = tlsConfig(pin)
	hc := &doer{
		c: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirected PUT or MOVE must not turn into a GET
		}},
		user: cfg.User, password: cfg.Password,
	}
	c, err := gowebdav.NewClient(hc, base.String())
	if err != nil {
		return nil, err
	}
	w := &WebDAV{cfg: &cfg, base: base, hc: hc, c: c, uploads: nextcloudUploads(base)}
	fi, err := w.stat(ctx, base.Path)
	switch {
	case isStatus(err, http.StatusNotFound):
		return nil, fmt.Errorf("the folder %s does not exist on the WebDAV server: create it (or correct the address)", w.where())
	case err != nil:
		return nil, w.explain(err, "open the folder")
	case !fi.IsDir:
		return nil, fmt.Errorf("%s on the WebDAV server is a file, not a folder", w.where())
	}
	return w, nil
}

// tlsConfig trusts the system's certificates, or exactly the pinned one.
func tlsConfig(pin string) *tls.Config {
	if pin == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			if got := Fingerprint(cs.PeerCertificates[0].Raw); got != pin {
				return &PinError{Got: got, Pinned: pin}
			}
			return nil
		},
	}
}

// PinError: the server's certificate is not the pinned one.
type PinError struct{ Got, Pinned string }

func (e *PinError) Error() string {
	return fmt.Sprintf("the server's certificate (SHA-256 %s) is not the pinned one (%s)", e.Got, e.Pinned)
}

func (w *WebDAV) String() string { return "WebDAV " + w.cfg.String() }

// GoString keeps %#v from printing secrets.
func (w *WebDAV) GoString() string { return "webdav.WebDAV(" + w.cfg.String() + ")" }

// Close releases idle connections.
func (w *WebDAV) Close() error {
	w.hc.c.CloseIdleConnections()
	return nil
}

func (w *WebDAV) where() string { return w.cfg.String() }

// rel maps an object name to a path relative to the folder, refusing names
// that leave it (the same rules as the local folder's).
func rel(name string) (string, error) {
	clean := path.Clean("/" + name)
	if name == "" || clean != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return name, nil
}

// abs is the server path of a path relative to the folder.
func (w *WebDAV) abs(rel string) string { return path.Join(w.base.Path, rel) }

// href is the full URL of a path relative to the folder.
func (w *WebDAV) href(rel string) string {
	u := *w.base
	u.Path, u.RawPath = w.abs(rel), ""
	return u.String()
}

func (w *WebDAV) Stat(ctx context.Context, name string) (storage.Info, error) {
	r, err := rel(name)
	if err != nil {
		return storage.Info{}, err
	}
	fi, err := w.stat(ctx, w.abs(r))
	if err == nil && fi.IsDir {
		err = &StatusError{Method: "PROPFIND", Code: http.StatusNotFound} // a folder is not an object
	}
	if err != nil {
		return storage.Info{}, w.explain(err, "look at "+name)
	}
	return storage.Info{Name: name, Size: fi.Size, Modified: fi.Modified}, nil
}

// stat describes the resource at the server path p.
func (w *WebDAV) stat(ctx context.Context, p string) (entry, error) {
	es, err := w.propfind(ctx, p, "0")
	if err != nil {
		return entry{}, err
	}
	if len(es) != 1 {
		return entry{}, fmt.Errorf("PROPFIND (Depth: 0) of %s answered %d resources", p, len(es))
	}
	return es[0], nil
}

func (w *WebDAV) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := rel(name)
	if err != nil {
		return nil, err
	}
	rc, err := w.c.Open(ctx, w.abs(r))
	if err != nil {
		return nil, w.explain(err, "read "+name)
	}
	return rc, nil
}

func (w *WebDAV) Delete(ctx context.Context, name string) error {
	if _, err := w.Stat(ctx, name); err != nil { // never DELETE a folder: it goes with all it holds
		return err
	}
	if err := w.c.RemoveAll(ctx, w.abs(name)); err != nil {
		return w.explain(err, "delete "+name)
	}
	return nil
}

// List walks the folder, descending only into folders that can hold names
// starting with prefix.
func (w *WebDAV) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	var out []storage.Info
	err := w.walk(ctx, prefix, func(name string, fi entry) error {
		if base := path.Base(name); !strings.HasPrefix(base, storage.TempPrefix) && !strings.HasPrefix(base, apacheTemp) {
			out = append(out, storage.Info{Name: name, Size: fi.Size, Modified: fi.Modified})
		}
		return nil
	})
	if err != nil {
		return nil, w.explain(err, "list the folder")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// walk calls visit for every file whose name (relative to the folder)
// starts with prefix, with one PROPFIND (Depth: 1) per folder that can hold
// such names (servers refuse Depth: infinity). A folder deleted meanwhile
// is skipped.
func (w *WebDAV) walk(ctx context.Context, prefix string, visit func(name string, fi entry) error) error {
	var walk func(dir string) error
	walk = func(dir string) error {
		self := strings.TrimSuffix(w.abs(dir), "/")
		entries, err := w.propfind(ctx, self+"/", "1")
		if err != nil {
			if dir != "" && isStatus(err, http.StatusNotFound) {
				return nil
			}
			return err
		}
		for _, fi := range entries {
			p := strings.TrimSuffix(fi.Path, "/")
			if p == self || p == "" {
				continue // the folder itself
			}
			name := path.Join(dir, path.Base(p))
			if fi.IsDir {
				if d := name + "/"; strings.HasPrefix(d, prefix) || strings.HasPrefix(prefix, d) {
					if err := walk(name); err != nil {
						return err
					}
				}
				continue
			}
			if strings.HasPrefix(name, prefix) {
				if err := visit(name, fi); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("")
}
