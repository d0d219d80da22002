package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// WebDAVServer is a running Apache httpd serving a folder with mod_dav
// behind Basic authentication, on loopback.
type WebDAVServer struct {
	// URL is the shared folder: http(s)://127.0.0.1:port/dav/
	URL      string
	Host     string
	Port     int
	User     string
	Password string
	// Root is the directory on disk behind URL (owned by the user Apache
	// serves requests as: www-data when the tests run as root).
	Root string
	// CertSHA256 is the SHA-256 of the self-signed certificate (hex), for
	// an HTTPS server; "" for plain HTTP.
	CertSHA256 string
	// Owner is who Apache's workers run as (nil: the current user).
	Owner *user.User

	proc *proc
}

// WebDAVOption configures WebDAV.
type WebDAVOption func(*webdavConfig)

type webdavConfig struct{ tls bool }

// WithTLS serves HTTPS with a freshly made self-signed certificate for
// 127.0.0.1 (CertSHA256 is its fingerprint).
func WithTLS() WebDAVOption { return func(c *webdavConfig) { c.tls = true } }

// WebDAV starts Debian's apache2 (-DFOREGROUND with its own config file) on a
// free 127.0.0.1 port: mod_dav + mod_dav_fs on Root at /dav/, Basic auth
// from an htpasswd file with one fresh user and password. As root, Apache's
// workers run as www-data and Root belongs to it. It stops at cleanup.
func WebDAV(t testing.TB, opts ...WebDAVOption) *WebDAVServer {
	t.Helper()
	var cfg webdavConfig
	for _, o := range opts {
		o(&cfg)
	}
	apache := systemTool(t, "apache2", "apache2", "/usr/sbin/apache2")
	htpasswd := systemTool(t, "htpasswd", "apache2-utils", "/usr/bin/htpasswd")
	mods := "/usr/lib/apache2/modules"
	if _, err := os.Stat(filepath.Join(mods, "mod_dav_fs.so")); err != nil {
		t.Fatalf("testenv: Apache's mod_dav_fs is missing (%v); install the Debian package apache2: %s", err, InstallHint)
	}

	var owner *runUser
	if os.Geteuid() == 0 {
		u, err := user.Lookup("www-data")
		if err != nil {
			t.Fatalf("testenv: running as root, Apache serves as www-data, which does not exist: install the Debian package apache2 (%s)", InstallHint)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		owner = &runUser{Name: u.Username, Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir := tempDir(t, "webdav", owner)
	root := filepath.Join(dir, "root")
	lockDir := filepath.Join(dir, "lock")
	for _, d := range []string{root, lockDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		if owner != nil {
			if err := os.Chown(d, int(owner.Uid), int(owner.Gid)); err != nil {
				t.Fatalf("testenv: %v", err)
			}
		}
	}
	s := &WebDAVServer{Host: "127.0.0.1", User: "pgsafe", Password: "dav-" + randomHex(12), Root: root}
	if owner != nil {
		s.Owner = &user.User{Username: owner.Name, Uid: strconv.Itoa(int(owner.Uid)), Gid: strconv.Itoa(int(owner.Gid))}
	}
	pwFile := filepath.Join(dir, "htpasswd")
	if out, err := runTool(nil, dir, nil, 10*time.Second, htpasswd, "-bc", pwFile, s.User, s.Password); err != nil {
		t.Fatalf("testenv: htpasswd: %v\n%s", err, out)
	}
	os.Chmod(pwFile, 0o644)

	scheme := "http"
	var tlsLines []string
	if cfg.tls {
		scheme = "https"
		certPEM, keyPEM, sum := selfSigned(t)
		s.CertSHA256 = sum
		writeFile(t, filepath.Join(dir, "cert.pem"), certPEM, 0o644, nil)
		writeFile(t, filepath.Join(dir, "key.pem"), keyPEM, 0o600, nil)
		tlsLines = []string{
			"LoadModule socache_shmcb_module " + mods + "/mod_socache_shmcb.so",
			"LoadModule ssl_module " + mods + "/mod_ssl.so",
			"SSLEngine on",
			"SSLCertificateFile " + filepath.Join(dir, "cert.pem"),
			"SSLCertificateKeyFile " + filepath.Join(dir, "key.pem"),
		}
	}

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s.Port = freePort(t)
		s.URL = fmt.Sprintf("%s://%s/dav/", scheme, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
		lines := []string{
			"ServerRoot /etc/apache2",
			"ServerName 127.0.0.1",
			"LoadModule mpm_event_module " + mods + "/mod_mpm_event.so",
		}
		for _, m := range []string{"alias", "authn_core", "authz_core", "auth_basic", "authn_file", "authz_user", "dav", "dav_fs"} {
			lines = append(lines, "LoadModule "+m+"_module "+mods+"/mod_"+m+".so")
		}
		if owner != nil {
			lines = append(lines, "User "+owner.Name, "Group "+owner.Name)
		}
		lines = append(lines, tlsLines...)
		lines = append(lines,
			"Listen 127.0.0.1:"+strconv.Itoa(s.Port),
			"PidFile "+filepath.Join(dir, "httpd.pid"),
			"ErrorLog "+filepath.Join(dir, "error.log"),
			"LogLevel warn",
			"DefaultRuntimeDir "+dir,
			"DAVLockDB "+filepath.Join(lockDir, "DAVLock"),
			"LimitRequestBody 0",
			"Timeout 30",
			"Alias /dav "+root,
			"<Directory "+root+">",
			"  Dav On",
			"  AuthType Basic",
			"  AuthName PgSafeTest",
			"  AuthUserFile "+pwFile,
			"  Require valid-user",
			"</Directory>",
			"")
		conf := filepath.Join(dir, "httpd.conf")
		writeFile(t, conf, []byte(strings.Join(lines, "\n")), 0o644, nil)
		cmd := exec.Command(apache, "-f", conf, "-DFOREGROUND")
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "LANG=C"}
		p := startProc(t, "apache2", cmd, nil)
		lastErr = s.waitReady(p, 15*time.Second)
		if lastErr == nil {
			s.proc = p
			return s
		}
		p.stop(syscall.SIGTERM, 5*time.Second)
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		lastErr = fmt.Errorf("%v\nerror.log:\n%s", lastErr, log)
		if !strings.Contains(string(log)+p.out.String(), "Address already in use") {
			break
		}
	}
	t.Fatalf("testenv: apache2 did not start: %v", lastErr)
	return nil
}

// waitReady waits until an authenticated PROPFIND of the folder answers 207.
func (s *WebDAVServer) waitReady(p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := s.HTTPClient()
	for {
		req, _ := http.NewRequest("PROPFIND", s.URL, nil)
		req.Header.Set("Depth", "0")
		req.SetBasicAuth(s.User, s.Password)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusMultiStatus {
				return nil
			}
			err = fmt.Errorf("PROPFIND %s: %s", s.URL, resp.Status)
		}
		if p.exited() {
			return fmt.Errorf("%s", p.describeExit())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no WebDAV at %s after %v: %v; %s", s.URL, timeout, err, p.describeExit())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// HTTPClient is a client that trusts exactly this server's certificate.
func (s *WebDAVServer) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, VerifyConnection: func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("no certificate")
		}
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if hex.EncodeToString(sum[:]) != s.CertSHA256 {
			return fmt.Errorf("not the test server's certificate")
		}
		return nil
	}}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Stop kills the server now, as a crash would.
func (s *WebDAVServer) Stop() { s.proc.stop(syscall.SIGKILL, 5*time.Second) }

// selfSigned makes an ECDSA certificate for 127.0.0.1, valid for a day.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte, sha string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	sum := sha256.Sum256(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), hex.EncodeToString(sum[:])
}
