// Package tunnel reaches a database through an SSH bastion: it opens a local
// port on 127.0.0.1 that forwards to the database's host and port as seen
// from the bastion, so pgx and pg_dump connect through the same tunnel. The
// bastion's host key is always checked (a pinned key or a known_hosts file);
// there is no "accept any key" mode. Dial, the checked SSH login alone, is
// shared with the SFTP storage.
package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Config is an SSH bastion and how to log in to it.
type Config struct {
	Host string
	Port int // 0: 22
	User string

	Password      string // password authentication, or
	PrivateKey    []byte // a private key (PEM / OpenSSH), or
	KeyPath       string // a private key file
	KeyPassphrase string // the key's passphrase, if it has one

	// The bastion's host key: HostKey pins one (authorized_keys format,
	// "ssh-ed25519 AAAA…"); otherwise KnownHostsPath names a known_hosts file.
	HostKey        string
	KnownHostsPath string

	Timeout time.Duration // for connecting; 0: 15 seconds
}

func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// String names the bastion without secrets.
func (c Config) String() string { return c.User + "@" + c.addr() }

// LogValue keeps slog from printing secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "tunnel.Config(" + c.String() + ")" }

// HostKeyError: the bastion's host key is unknown or differs from the one
// expected. It carries the key's fingerprint so the user can compare it.
type HostKeyError struct {
	Addr        string
	Fingerprint string // SHA256:… of the key the server presented
	Key         string // the key, authorized_keys format, to pin after checking
	Mismatch    bool   // a different key was expected: possibly an attack
}

func (e *HostKeyError) Error() string {
	if e.Mismatch {
		return fmt.Sprintf("the SSH host key of %s has changed (it is now %s): this may be an attack, or the server was reinstalled; "+
			"check the fingerprint with the server's administrator before trusting it", e.Addr, e.Fingerprint)
	}
	return fmt.Sprintf("the SSH host key of %s (%s) is not known: check the fingerprint with the server's administrator, then trust it", e.Addr, e.Fingerprint)
}

// Tunnel is an open SSH connection with a local listener forwarding to one
// remote address.
type Tunnel struct {
	// Host and Port are the local end to connect to (127.0.0.1, a free port).
	Host string
	Port int

	client *ssh.Client
	ln     net.Listener
	remote string
	wg     sync.WaitGroup
	once   sync.Once
	log    *slog.Logger
}

// Dial connects and logs in to the SSH server cfg names, checking its host
// key (an untrusted key is a *HostKeyError). The caller closes the client.
// Errors never include the password or key.
func Dial(ctx context.Context, cfg Config) (*ssh.Client, error) {
	cc, err := clientConfig(cfg)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: cc.Timeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.addr())
	if err != nil {
		return nil, fmt.Errorf("the SSH server %s cannot be reached: %w (check the host name and port, and that the server is running)", cfg.addr(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(cc.Timeout))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	sc, chans, reqs, err := ssh.NewClientConn(conn, cfg.addr(), cc)
	if !stop() && err == nil {
		sc.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		conn.Close()
		var hk *HostKeyError
		switch {
		case errors.As(err, &hk):
			return nil, hk
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("SSH login to %s was refused: check the user name, and the key or password", cfg)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("SSH login to %s: the server did not answer within %v", cfg, cc.Timeout)
		}
		return nil, fmt.Errorf("SSH login to %s: %w", cfg, err)
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// Open connects to the bastion and forwards a new local port to
// remoteHost:remotePort (as the bastion resolves it). Close it when done.
func Open(ctx context.Context, cfg Config, remoteHost string, remotePort int) (*Tunnel, error) {
	client, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("open a local port for the SSH tunnel: %w", err)
	}
	t := &Tunnel{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, client: client, ln: ln,
		remote: net.JoinHostPort(remoteHost, strconv.Itoa(remotePort)), log: slog.Default()}
	// Check the forward works now, so a refused target is a clear error here
	// rather than a confusing one from pg_dump later.
	probe, err := client.Dial("tcp", t.remote)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("the SSH bastion %s cannot reach %s: %w (check the database host as seen from the bastion, and that the bastion allows port forwarding)", cfg, t.remote, err)
	}
	probe.Close()
	t.wg.Add(1)
	go t.serve()
	return t, nil
}

func (t *Tunnel) serve() {
	defer t.wg.Done()
	for {
		local, err := t.ln.Accept()
		if err != nil {
			return // closed
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer local.Close()
			remote, err := t.client.Dial("tcp", t.remote)
			if err != nil {
				t.log.Warn("SSH tunnel: forward failed", "err", err)
				return
			}
			defer remote.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(remote, local); done <- struct{}{} }()
			go func() { io.Copy(local, remote); done <- struct{}{} }()
			<-done
		}()
	}
}

// Close stops forwarding and closes the SSH connection.
func (t *Tunnel) Close() error {
	var err error
	t.once.Do(func() {
		t.ln.Close()
		err = t.client.Close()
		t.wg.Wait()
	})
	return err
}

func clientConfig(cfg Config) (*ssh.ClientConfig, error) {
	if cfg.Host == "" || cfg.User == "" {
		return nil, errors.New("SSH: the server's host and user are required")
	}
	var auth []ssh.AuthMethod
	key := cfg.PrivateKey
	if len(key) == 0 && cfg.KeyPath != "" {
		var err error
		if key, err = os.ReadFile(cfg.KeyPath); err != nil {
			return nil, fmt.Errorf("SSH: read the private key: %w", err)
		}
	}
	if len(key) > 0 {
		var signer ssh.Signer
		var err error
		if cfg.KeyPassphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(key, []byte(cfg.KeyPassphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(key)
		}
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, errors.New("SSH: the private key is protected by a passphrase: enter it")
		case err != nil:
			return nil, fmt.Errorf("SSH: the private key cannot be read (wrong passphrase, or not a private key): %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		auth = append(auth, ssh.Password(cfg.Password))
	}
	if len(auth) == 0 {
		return nil, errors.New("SSH: give a private key or a password to log in with")
	}
	hk, err := hostKeyCallback(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &ssh.ClientConfig{User: cfg.User, Auth: auth, HostKeyCallback: hk, Timeout: timeout}, nil
}

func hostKeyCallback(cfg Config) (ssh.HostKeyCallback, error) {
	switch {
	case cfg.HostKey != "":
		want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(cfg.HostKey))
		if err != nil {
			return nil, fmt.Errorf("SSH: the pinned host key is not a public key line: %w", err)
		}
		return func(host string, remote net.Addr, key ssh.PublicKey) error {
			if string(key.Marshal()) != string(want.Marshal()) {
				return hostKeyError(host, key, true)
			}
			return nil
		}, nil
	case cfg.KnownHostsPath != "":
		kh, err := knownhosts.New(cfg.KnownHostsPath)
		if err != nil {
			return nil, fmt.Errorf("SSH: read known hosts %s: %w", cfg.KnownHostsPath, err)
		}
		return func(host string, remote net.Addr, key ssh.PublicKey) error {
			err := kh(host, remote, key)
			var ke *knownhosts.KeyError
			if errors.As(err, &ke) {
				return hostKeyError(host, key, len(ke.Want) > 0)
			}
			return err
		}, nil
	default:
		return func(host string, _ net.Addr, key ssh.PublicKey) error { return hostKeyError(host, key, false) }, nil
	}
}

func hostKeyError(addr string, key ssh.PublicKey, mismatch bool) error {
	return &HostKeyError{Addr: addr, Fingerprint: ssh.FingerprintSHA256(key), Mismatch: mismatch,
		Key: string(ssh.MarshalAuthorizedKey(key))}
}

// FetchHostKey connects to the bastion only to learn its host key (to show
// the user its fingerprint before trusting it); it does not log in.
func FetchHostKey(ctx context.Context, cfg Config) (*HostKeyError, error) {
	cfg.HostKey, cfg.KnownHostsPath = "", ""
	if cfg.Password == "" && len(cfg.PrivateKey) == 0 && cfg.KeyPath == "" {
		cfg.Password = "-" // never sent: the host key check fails first
	}
	_, err := Open(ctx, cfg, "127.0.0.1", 1)
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return hk, nil
	}
	if err == nil {
		return nil, errors.New("SSH tunnel: the bastion was trusted without a host key")
	}
	return nil, err
}
