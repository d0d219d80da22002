package webdav_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
	"github.com/pgsafe/pgsafe/backend/storage/webdav"
)

func open(t *testing.T, cfg webdav.Config) *webdav.WebDAV {
	t.Helper()
	w, err := webdav.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func config(srv *testenv.WebDAVServer) webdav.Config {
	return webdav.Config{URL: srv.URL, User: srv.User, Password: srv.Password, CertSHA256: srv.CertSHA256}
}

func TestConformance(t *testing.T) {
	srv := testenv.WebDAV(t)
	storagetest.Run(t, open(t, config(srv)))
}

// A folder URL without its trailing slash, or with a path holding spaces
// and non-ASCII letters, works the same.
func TestAddressForms(t *testing.T) {
	srv := testenv.WebDAV(t)
	dir := filepath.Join(srv.Root, "Sauvegardes été")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if srv.Owner != nil {
		uid, _ := strconv.Atoi(srv.Owner.Uid)
		gid, _ := strconv.Atoi(srv.Owner.Gid)
		os.Chown(dir, uid, gid)
	}
	cfg := config(srv)
	cfg.URL = strings.TrimSuffix(srv.URL, "/") + "/Sauvegardes%20%C3%A9t%C3%A9"
	w := open(t, cfg)
	ctx := context.Background()
	if err := w.Put(ctx, "db one/x y.pgsafe", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "db one", "x y.pgsafe")); err != nil || string(b) != "hello" {
		t.Fatalf("on disk: %q, %v", b, err)
	}
	list, err := w.List(ctx, "db one/")
	if err != nil || len(list) != 1 || list[0].Name != "db one/x y.pgsafe" || list[0].Size != 5 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// A name that leaves the folder is refused before any request.
	if err := w.Put(ctx, "../escape", strings.NewReader("x")); err == nil {
		t.Fatal("Put of ../escape succeeded")
	}
	// Delete never removes a folder (with all it holds).
	if err := w.Delete(ctx, "db one"); !storage.IsNotFound(err) {
		t.Fatalf("Delete of a folder: %v", err)
	}
}

func TestSpaceUnsupportedByApache(t *testing.T) {
	srv := testenv.WebDAV(t)
	w := open(t, config(srv))
	if _, _, err := w.Space(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Space on Apache (no RFC 4331 quota): %v; want ErrUnsupported", err)
	}
}

func TestParseQuota(t *testing.T) {
	// RFC 4331's example answer.
	rfc := `<?xml version="1.0" encoding="utf-8" ?>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>http://www.example.com/users/tim/</D:href>
<D:propstat><D:prop><D:quota-available-bytes>596650</D:quota-available-bytes><D:quota-used-bytes>403350</D:quota-used-bytes></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`
	if free, used, err := webdav.ParseQuota([]byte(rfc)); err != nil || free != 596650 || used != 403350 {
		t.Fatalf("ParseQuota(RFC 4331 example) = %d, %d, %v", free, used, err)
	}
	// Nextcloud: -3 is "unlimited" (no limit to tell).
	nc := `<d:multistatus xmlns:d="DAV:"><d:response><d:href>/remote.php/dav/files/u/</d:href><d:propstat><d:prop>
<d:quota-available-bytes>-3</d:quota-available-bytes><d:quota-used-bytes>1234</d:quota-used-bytes></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`
	if _, _, err := webdav.ParseQuota([]byte(nc)); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("ParseQuota(unlimited) = %v", err)
	}
	missing := `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/</D:href><D:propstat><D:prop><D:quota-available-bytes/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`
	if _, _, err := webdav.ParseQuota([]byte(missing)); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("ParseQuota(404 properties) = %v", err)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	srv := testenv.WebDAV(t)
	ctx := context.Background()
	var messages []string
	check := func(what string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		messages = append(messages, err.Error())
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", what, err, w)
			}
		}
	}

	bad := config(srv)
	bad.Password = "wrong-" + srv.Password
	_, err := webdav.New(ctx, bad)
	check("wrong password", err, "refused the user name or password (401)", "check them")

	missing := config(srv)
	missing.URL = srv.URL + "no-such-folder/"
	_, err = webdav.New(ctx, missing)
	check("missing folder", err, "does not exist on the WebDAV server", "create it")

	withUser := config(srv)
	withUser.URL = strings.Replace(srv.URL, "://", "://"+srv.User+":"+srv.Password+"@", 1)
	_, err = webdav.New(ctx, withUser)
	check("password in the address", err, "must not contain a user or password")

	// The folder removed after the storage was added.
	gone := filepath.Join(srv.Root, "gone")
	os.Mkdir(gone, 0o755)
	if srv.Owner != nil {
		uid, _ := strconv.Atoi(srv.Owner.Uid)
		gid, _ := strconv.Atoi(srv.Owner.Gid)
		os.Chown(gone, uid, gid)
	}
	g := config(srv)
	g.URL = srv.URL + "gone/"
	w := open(t, g)
	os.RemoveAll(gone)
	check("folder removed", w.Put(ctx, "db/x.pgsafe", strings.NewReader("x")), "no longer exists", "create it again")
	check("folder removed, no subfolder", w.Put(ctx, "x.pgsafe", strings.NewReader("x")), "no longer exists", "create it again")

	// HTTPS asked of a plain HTTP server.
	tlsCfg := config(srv)
	tlsCfg.URL = strings.Replace(srv.URL, "http://", "https://", 1)
	_, err = webdav.New(ctx, tlsCfg)
	check("https to http", err, "does not speak HTTPS", "use http://")

	// The server gone, before and during an upload.
	w = open(t, config(srv))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- w.Put(ctx, "db/big.pgsafe", pr) }()
	if _, err := pw.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	go io.Copy(pw, &zeros{n: 64 << 20})
	select {
	case err := <-done:
		check("server killed mid-upload", err, "WebDAV server", "check the network, and that the server is running")
	case <-time.After(60 * time.Second):
		t.Fatal("the Put did not end within 60 s of the server's death")
	}
	pw.CloseWithError(errors.New("test over"))
	check("server gone", w.Put(ctx, "db/x.pgsafe", strings.NewReader("x")), "cannot reach the WebDAV server", "that the server is running")
	check("server gone (list)", func() error { _, err := w.List(ctx, ""); return err }(), "cannot reach the WebDAV server")

	for _, m := range messages {
		if strings.Contains(m, srv.Password) {
			t.Errorf("a message shows the password: %q", m)
		}
	}
}

// A full disk on the server (507 Insufficient Storage) says so, and the
// failed Put leaves nothing behind.
func TestFullDisk(t *testing.T) {
	srv := testenv.WebDAV(t)
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if srv.Owner != nil {
		u, _ := strconv.Atoi(srv.Owner.Uid)
		g, _ := strconv.Atoi(srv.Owner.Gid)
		uid, gid = uint32(u), uint32(g)
	}
	small := filepath.Join(srv.Root, "small")
	os.Mkdir(small, 0o755)
	testenv.FullDisk(t, small, 2, uid, gid)
	os.Chmod(small, 0o755)
	cfg := config(srv)
	cfg.URL = srv.URL + "small/"
	w := open(t, cfg)
	ctx := context.Background()
	err := w.Put(ctx, "db/x.pgsafe", &zeros{n: 8 << 20})
	if err == nil || !strings.Contains(err.Error(), "no space left (507 Insufficient Storage)") || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("Put to a full disk: %v", err)
	}
	if list, err := w.List(ctx, ""); err != nil || len(list) != 0 {
		t.Fatalf("left after a failed Put: %+v (%v)", list, err)
	}
	if left, err := w.RemoveTemp(ctx, "", func(storage.Temp) bool { return true }); err != nil || len(left) != 0 {
		t.Fatalf("temporary files left after a failed Put: %+v (%v)", left, err)
	}
	// Once space is free again, backups go on.
	if err := w.Put(ctx, "db/y.pgsafe", strings.NewReader("fits")); err != nil {
		t.Fatal(err)
	}
}

// HTTPS with a self-signed certificate: refused with its fingerprint until
// it is pinned; a different certificate than the pinned one is refused.
func TestSelfSignedCertificate(t *testing.T) {
	srv := testenv.WebDAV(t, testenv.WithTLS())
	ctx := context.Background()
	cfg := config(srv)
	cfg.CertSHA256 = ""
	_, err := webdav.New(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "not trusted by this computer") || !strings.Contains(err.Error(), srv.CertSHA256) {
		t.Fatalf("unpinned self-signed certificate: %v", err)
	}
	// Pinned in the colon-separated upper-case form browsers show.
	var colon []string
	for i := 0; i < len(srv.CertSHA256); i += 2 {
		colon = append(colon, strings.ToUpper(srv.CertSHA256[i:i+2]))
	}
	cfg.CertSHA256 = strings.Join(colon, ":")
	w := open(t, cfg)
	if err := w.Put(ctx, "db/x.pgsafe", strings.NewReader("over tls")); err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("ab", 32)
	cfg.CertSHA256 = other
	_, err = webdav.New(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "changed") || !strings.Contains(err.Error(), "intercepting") {
		t.Fatalf("a certificate other than the pinned one: %v", err)
	}
}

// Nothing prints the password: no fmt verb of a Config, no slog record, no
// storage name.
func TestNoSecretInOutput(t *testing.T) {
	cfg := webdav.Config{URL: "https://cloud.example.com/remote.php/dav/files/ann/Backups/", User: "ann", Password: "s3cret-pass-word"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("storage", "cfg", cfg)
	buf.WriteString(fmt.Sprintf("%v %+v %#v %s %q %x %d", cfg, cfg, cfg, cfg, cfg, cfg, cfg))
	if strings.Contains(buf.String(), cfg.Password) || strings.Contains(buf.String(), "73336372") {
		t.Fatalf("the password is printed: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "https://ann@cloud.example.com/remote.php/dav/files/ann/Backups") {
		t.Fatalf("the folder is not named: %s", buf.String())
	}
}

// A Put streams: memory stays flat however large the object.
func TestPutMemoryIsFlat(t *testing.T) {
	srv := testenv.WebDAV(t)
	w := open(t, config(srv))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	const size = 256 << 20
	err := w.Put(context.Background(), "db/big.pgsafe", &zeros{n: size})
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if info, err := w.Stat(context.Background(), "db/big.pgsafe"); err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	if grew := int64(peak.Load()) - int64(before.HeapInuse); grew > 16<<20 {
		t.Fatalf("the heap grew by %d MiB while storing %d MiB", grew>>20, size>>20)
	}
}

// zeros is n zero bytes, made as they are read.
type zeros struct{ n int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	if len(p) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= len(p)
	return len(p), nil
}
