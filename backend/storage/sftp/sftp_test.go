package sftp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
	"github.com/pgsafe/pgsafe/backend/tunnel"
)

// Tests here change package variables (keepalive, cancelGrace): none runs
// in parallel.

func server(t *testing.T) (*testenv.SFTPServer, Config) {
	srv := testenv.SFTP(t)
	return srv, Config{Path: srv.Root, Config: tunnel.Config{Host: srv.Host, Port: srv.Port, User: srv.User,
		PrivateKey: srv.PrivateKey, HostKey: string(ssh.MarshalAuthorizedKey(srv.HostKey))}}
}

func open(t *testing.T, cfg Config) *SFTP {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noTempFiles fails if a temporary file is left under the server's root.
func noTempFiles(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tmpPrefix) {
			t.Errorf("temporary file left on the server: %s", p)
		}
		return nil
	})
}

func TestConformance(t *testing.T) {
	srv, cfg := server(t)
	t.Run("pinned host key, absolute path", func(t *testing.T) {
		storagetest.Run(t, open(t, cfg))
		noTempFiles(t, srv.Root)
	})
	t.Run("known_hosts file, path relative to the login folder", func(t *testing.T) {
		if err := srv.Client(t).Mkdir("sub"); err != nil {
			t.Fatal(err)
		}
		kh := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(kh, []byte(srv.KnownHostsLine()+"\n"), 0o600)
		c := cfg
		c.HostKey, c.KnownHostsPath, c.Path = "", kh, "sub"
		s := open(t, c)
		if want := "SFTP " + srv.User + "@" + srv.Addr + "/~/sub"; s.String() != want {
			t.Errorf("String() = %q, want %q", s.String(), want)
		}
		storagetest.Run(t, s)
		noTempFiles(t, srv.Root)
	})
}

func TestListAndFree(t *testing.T) {
	srv, cfg := server(t)
	s := open(t, cfg)
	ctx := context.Background()
	for _, name := range []string{"b/2", "a/x/1", "a/0", "top"} {
		if err := s.Put(ctx, name, strings.NewReader(name)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(srv.Root, "a", tmpPrefix+"stale"), []byte("x"), 0o644) // an interrupted Put's
	for prefix, want := range map[string]string{"": "a/0 a/x/1 b/2 top", "a/": "a/0 a/x/1", "a/x": "a/x/1", "b/2": "b/2", "c": ""} {
		list, err := s.List(ctx, prefix)
		var names []string
		for _, o := range list {
			names = append(names, o.Name)
			if o.Size != int64(len(o.Name)) || time.Since(o.Modified) > time.Hour {
				t.Errorf("List: %+v", o)
			}
		}
		if err != nil || strings.Join(names, " ") != want {
			t.Errorf("List(%q) = %v, %v; want %s", prefix, names, err, want)
		}
	}
	if _, err := s.Stat(ctx, "a"); !storage.IsNotFound(err) {
		t.Errorf("Stat of a folder: %v", err)
	}
	if err := s.Delete(ctx, "a/x"); !storage.IsNotFound(err) {
		t.Errorf("Delete of a folder: %v", err)
	}
	if free, err := s.Free(ctx); err != nil || free <= 0 {
		t.Errorf("Free = %d, %v", free, err)
	}
	if err := s.Put(ctx, "../escape", strings.NewReader("x")); err == nil {
		t.Error("a name leaving the folder was accepted")
	}
}

func TestHostKey(t *testing.T) {
	srv, cfg := server(t)
	ctx := context.Background()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(other)
	otherKey := string(ssh.MarshalAuthorizedKey(otherSigner.PublicKey()))
	fp := ssh.FingerprintSHA256(srv.HostKey)

	c := cfg
	c.HostKey = otherKey
	_, err := New(ctx, c)
	var hk *tunnel.HostKeyError
	if !errors.As(err, &hk) || !hk.Mismatch || hk.Fingerprint != fp || !strings.Contains(err.Error(), "has changed") {
		t.Errorf("wrong pinned key: %v", err)
	}

	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(strings.Replace(srv.KnownHostsLine(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey))), strings.TrimSpace(otherKey), 1)+"\n"), 0o600)
	c.HostKey, c.KnownHostsPath = "", kh
	if _, err = New(ctx, c); !errors.As(err, &hk) || !hk.Mismatch || hk.Fingerprint != fp {
		t.Errorf("another key in known_hosts: %v", err)
	}

	c.HostKey, c.KnownHostsPath = "", ""
	if _, err = New(ctx, c); !errors.As(err, &hk) || hk.Mismatch || hk.Fingerprint != fp || !strings.Contains(err.Error(), "not known") {
		t.Errorf("no host key to check against: %v", err)
	}
}

func TestLoginAndPathErrors(t *testing.T) {
	srv, cfg := server(t)
	ctx := context.Background()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(other, "")
	c := cfg
	c.PrivateKey = pem.EncodeToMemory(block)
	c.Password = "hunter2-sftp"
	_, err := New(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "SSH login to "+srv.User+"@"+srv.Addr+" was refused") {
		t.Errorf("wrong key: %v", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c = cfg
	c.Port = closed
	if _, err := New(ctx, c); err == nil || !strings.Contains(err.Error(), "cannot be reached") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("nothing listening: %v", err)
	}

	c = cfg
	c.Path = srv.Root + "/usb-disk"
	if _, err := New(ctx, c); err == nil || !strings.Contains(err.Error(), `the folder "`+c.Path+`" does not exist on the SFTP server`) {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := os.Stat(c.Path); err == nil {
		t.Error("New created the folder")
	}
	s := open(t, cfg)
	s.Put(ctx, "file", strings.NewReader("x"))
	c.Path = srv.Root + "/file"
	if _, err := New(ctx, c); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("a file as the folder: %v", err)
	}
	if err := s.Put(ctx, "file/x", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "is a file, where a folder is needed") {
		t.Errorf("Put under a file: %v", err)
	}

	cl := srv.Client(t)
	cl.Mkdir("ro")
	cl.Chmod("ro", 0o500)
	if err := s.Put(ctx, "ro/x", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "permission denied to the user "+srv.User) {
		t.Errorf("Put in a read-only folder: %v", err)
	}
}

func TestFailedPutLeavesNoTempFile(t *testing.T) {
	srv, cfg := server(t)
	s := open(t, cfg)
	failing := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), errReader{})
	if err := s.Put(context.Background(), "db/x", failing); err == nil || err.Error() != "source failed" {
		t.Fatalf("Put of a failing stream: %v", err)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "db", "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("final object: %v", err)
	}
	noTempFiles(t, srv.Root)
}

func TestDiskFull(t *testing.T) {
	srv, cfg := server(t)
	small := filepath.Join(srv.Root, "small")
	os.Mkdir(small, 0o700)
	fi, _ := os.Stat(srv.Root)
	st := fi.Sys().(*syscall.Stat_t)
	testenv.FullDisk(t, small, 2, st.Uid, st.Gid)
	s := open(t, cfg)
	err := s.Put(context.Background(), "small/x", bytes.NewReader(make([]byte, 3<<20)))
	if err == nil || !strings.Contains(err.Error(), "the disk of the SFTP server "+srv.User+"@"+srv.Addr+" is full") {
		t.Fatalf("Put on a full disk: %v", err)
	}
	noTempFiles(t, small)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("source failed") }

// endless is an endless stream that calls at once after n bytes.
type endless struct {
	n    int
	at   func()
	once sync.Once
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n -= len(p); e.n < 0 {
		e.once.Do(e.at)
	}
	return len(p), nil
}

func TestServerStopsMidPut(t *testing.T) {
	srv, cfg := server(t)
	s := open(t, cfg)
	var stopped time.Time
	err := s.Put(context.Background(), "db/x", &endless{n: 8 << 20, at: func() { srv.Stop(); stopped = time.Now() }})
	if err == nil || !strings.Contains(err.Error(), "connection to the SFTP server "+srv.User+"@"+srv.Addr+" was lost while storing db/x") {
		t.Fatalf("Put while the server stopped: %v", err)
	}
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("Put noticed the server was gone after %v", d)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "db", "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("final object: %v", err)
	}
	if _, err := s.Stat(context.Background(), "db/x"); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("Stat with the server stopped: %v", err)
	}
}

func TestReconnect(t *testing.T) {
	_, cfg := server(t)
	s := open(t, cfg)
	ctx := context.Background()
	if err := s.Put(ctx, "a", strings.NewReader("1")); err != nil {
		t.Fatal(err)
	}
	for i, op := range []func() error{
		func() error { _, err := s.Stat(ctx, "a"); return err },
		func() error { _, err := s.List(ctx, ""); return err },
		func() error { return s.Put(ctx, "b", strings.NewReader("2")) },
		func() error {
			rc, err := s.Open(ctx, "b")
			if err == nil {
				rc.Close()
			}
			return err
		},
		func() error { return s.Delete(ctx, "b") },
	} {
		old := s.conn
		old.ssh.Close() // under the storage, as a dropped network would
		if err := op(); err != nil {
			t.Errorf("op %d after the connection dropped: %v", i, err)
		}
		if s.conn == old {
			t.Errorf("op %d did not redial", i)
		}
	}
}

// freezer forwards TCP to a server until frozen, then forwards nothing, as
// a network that silently went away.
type freezer struct {
	port   int
	frozen chan struct{}
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezer(t *testing.T, addr string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{port: ln.Addr().(*net.TCPAddr).Port, frozen: make(chan struct{})}
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.conns {
			c.Close()
		}
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, in, out)
			f.mu.Unlock()
			go f.pipe(in, out)
			go f.pipe(out, in)
		}
	}()
	return f
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-f.frozen:
			return // drop everything from now on, leaving the connections open
		default:
		}
		if err != nil {
			dst.Close()
			return
		}
		dst.Write(buf[:n])
	}
}

func TestSilentNetwork(t *testing.T) {
	srv, cfg := server(t)
	ctx := context.Background()

	t.Run("keepalive drops a connection that does not answer", func(t *testing.T) {
		defer func(e, w time.Duration) { keepaliveEvery, keepaliveWait = e, w }(keepaliveEvery, keepaliveWait)
		keepaliveEvery, keepaliveWait = 200*time.Millisecond, time.Second
		f := newFreezer(t, srv.Addr)
		c := cfg
		c.Port = f.port
		s := open(t, c)
		start := time.Now()
		err := s.Put(ctx, "frozen", &endless{n: 4 << 20, at: func() { close(f.frozen) }})
		if err == nil || !strings.Contains(err.Error(), "was lost while storing frozen") || time.Since(start) > 10*time.Second {
			t.Fatalf("Put over a frozen network: %v after %v", err, time.Since(start))
		}
	})

	t.Run("cancel does not wait for a server that does not answer", func(t *testing.T) {
		defer func(g time.Duration) { cancelGrace = g }(cancelGrace)
		cancelGrace = 300 * time.Millisecond
		f := newFreezer(t, srv.Addr)
		c := cfg
		c.Port = f.port
		s := open(t, c)
		cctx, cancel := context.WithCancel(ctx)
		var cancelled time.Time
		err := s.Put(cctx, "frozen", &endless{n: 4 << 20, at: func() {
			close(f.frozen)
			time.AfterFunc(200*time.Millisecond, func() { cancelled = time.Now(); cancel() })
		}})
		if !errors.Is(err, context.Canceled) || time.Since(cancelled) > 3*time.Second {
			t.Fatalf("cancelled Put over a frozen network: %v after %v", err, time.Since(cancelled))
		}
	})
}

func TestSecretsNotPrinted(t *testing.T) {
	srv, cfg := server(t)
	ctx := context.Background()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(other, "")
	cfg.PrivateKey, cfg.Password = pem.EncodeToMemory(block), "hunter2-sftp"
	_, refused := New(ctx, cfg) // a key and a password the server refuses
	if !strings.Contains(fmt.Sprint(refused), "was refused") {
		t.Errorf("login with a wrong key: %v", refused)
	}
	block, _ = ssh.MarshalPrivateKeyWithPassphrase(other, "", []byte("right-pass"))
	cfg.PrivateKey, cfg.KeyPassphrase = pem.EncodeToMemory(block), "passphrase-sftp"
	_, badPass := New(ctx, cfg)
	if !strings.Contains(fmt.Sprint(badPass), "wrong passphrase") {
		t.Errorf("key with a wrong passphrase: %v", badPass)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("storage", "cfg", cfg)
	ok := cfg
	ok.PrivateKey, ok.KeyPassphrase = srv.PrivateKey, ""
	s := open(t, ok)
	_, notFound := s.Open(ctx, "nope")
	texts := []string{fmt.Sprintf("%v|%+v|%#v|%s|%d|%x|%q", cfg, cfg, cfg, cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v|%+v|%#v", &cfg, s, s), logged.String(), s.String(), fmt.Sprint(refused), fmt.Sprint(badPass), fmt.Sprint(notFound)}
	for _, text := range texts {
		for _, secret := range []string{"hunter2", "passphrase-sftp", "PRIVATE KEY", string(cfg.PrivateKey[60:80]), string(srv.PrivateKey[60:80])} {
			if strings.Contains(text, secret) {
				t.Errorf("%q printed: %s", secret, text)
			}
		}
	}
}
