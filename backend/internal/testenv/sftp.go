package testenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTPServer is a running OpenSSH sshd that serves SFTP (internal-sftp) with
// public-key authentication only.
type SFTPServer struct {
	Addr string // 127.0.0.1:port
	Host string // 127.0.0.1
	Port int
	// User is the account to log in as: the current user, or the
	// unprivileged server user (see the package doc) when tests run as root.
	User string
	// PrivateKey is the client's ed25519 key in OpenSSH PEM form
	// ("-----BEGIN OPENSSH PRIVATE KEY-----"), as a user would store it;
	// Signer is the same key, parsed.
	PrivateKey []byte
	Signer     ssh.Signer
	// HostKey is the server's public host key, for known-hosts checks.
	HostKey ssh.PublicKey
	// Root is the directory SFTP sessions start in (relative paths land
	// here); files written over SFTP are plain files under it, owned by
	// User.
	Root string

	proc *proc
}

// SFTP starts Debian's /usr/sbin/sshd (by absolute path, -D -e -f <config>)
// with its own sshd_config on a free 127.0.0.1 port: a host key generated in
// a temp dir, its own authorized_keys holding one fresh client key, no PAM,
// no passwords, and only the internal-sftp subsystem, starting in Root.
// sshd runs unprivileged: as the current user, or as the server user when
// tests run as root (then User is that user). It stops at cleanup. Tests may
// call it in parallel.
func SFTP(t testing.TB, opts ...SFTPOption) *SFTPServer {
	t.Helper()
	var cfg sftpConfig
	for _, o := range opts {
		o(&cfg)
	}
	forwarding := "no"
	if cfg.forwarding {
		forwarding = "local"
	}
	sshd := systemTool(t, "sshd", "openssh-server", "/usr/sbin/sshd")
	owner := serverUser(t)
	login := ""
	if owner != nil {
		login = owner.Name
	} else {
		login = currentUserName(t)
	}

	dir := tempDir(t, "sftp", owner)
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if owner != nil {
		if err := os.Chown(root, int(owner.Uid), int(owner.Gid)); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}

	// Host key and client key, both ed25519, generated here.
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	hostPEM := marshalKey(t, hostPriv, "pgsafe-test-host")
	hostKeyPath := filepath.Join(dir, "ssh_host_ed25519_key")
	writeFile(t, hostKeyPath, hostPEM, 0o600, owner)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}

	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	writeFile(t, authKeys, ssh.MarshalAuthorizedKey(clientSigner.PublicKey()), 0o600, owner)

	s := &SFTPServer{
		Host:       "127.0.0.1",
		User:       login,
		PrivateKey: marshalKey(t, clientPriv, "pgsafe-test-client"),
		Signer:     clientSigner,
		HostKey:    hostSigner.PublicKey(),
		Root:       root,
	}

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		config := strings.Join([]string{
			"Port " + strconv.Itoa(s.Port),
			"ListenAddress 127.0.0.1",
			"HostKey " + hostKeyPath,
			"PidFile " + filepath.Join(dir, "sshd.pid"),
			"AuthorizedKeysFile " + authKeys,
			"AllowUsers " + login,
			"UsePAM no",
			"StrictModes no",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PubkeyAuthentication yes",
			"PermitRootLogin no",
			"AllowTcpForwarding " + forwarding,
			"X11Forwarding no",
			"PermitTTY no",
			"LogLevel VERBOSE",
			"Subsystem sftp internal-sftp -d " + root,
			"ForceCommand internal-sftp -d " + root,
			"",
		}, "\n")
		configPath := filepath.Join(dir, "sshd_config")
		writeFile(t, configPath, []byte(config), 0o600, owner)
		cmd := exec.Command(sshd, "-D", "-e", "-f", configPath)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
		p := startProc(t, "sshd", cmd, owner)
		lastErr = s.waitReady(p, 15*time.Second)
		if lastErr == nil {
			s.proc = p
			return s
		}
		p.stop(syscall.SIGTERM, 5*time.Second)
		if !strings.Contains(p.out.String(), "Address already in use") {
			break
		}
	}
	t.Fatalf("testenv: sshd did not start: %v", lastErr)
	return nil
}

// Stop kills the server now, with the sessions it serves, as a crash would:
// clients' connections drop. (Stopping only the listener, as cleanup does,
// leaves open sessions running: sshd puts each in its own session.) Sessions
// are found in /proc, so outside Linux only the listener stops.
func (s *SFTPServer) Stop() {
	for _, pid := range descendants(s.proc.cmd.Process.Pid) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
	// After the sessions: they hold sshd's output pipe, which stop waits on.
	s.proc.stop(syscall.SIGKILL, 5*time.Second)
}

// descendants lists the processes below pid, from /proc/<pid>/stat.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := strings.LastIndexByte(string(stat), ')') // "pid (comm) state ppid …"
		if err != nil || i < 0 {
			continue
		}
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], id)
		}
	}
	var out []int
	for todo := children[pid]; len(todo) > 0; todo = todo[1:] {
		out = append(out, todo[0])
		todo = append(todo, children[todo[0]]...)
	}
	return out
}

// SFTPOption configures SFTP.
type SFTPOption func(*sftpConfig)

type sftpConfig struct{ forwarding bool }

// WithForwarding lets clients open local port forwards (direct-tcpip), so
// the server also serves as an SSH bastion for tunnel tests.
func WithForwarding() SFTPOption { return func(c *sftpConfig) { c.forwarding = true } }

// waitReady waits until an SSH handshake with our host key succeeds (so a
// stranger on a reused port does not count).
func (s *SFTPServer) waitReady(p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := ssh.Dial("tcp", s.Addr, s.ClientConfig())
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s", p.describeExit())
		}
		if out := p.out.String(); strings.Contains(out, "not allowed because") {
			// e.g. "User nobody not allowed because account is locked"
			// (nss-systemd gives nobody a locked password).
			return fmt.Errorf("sshd refuses logins as %s: %v; %s\nUse an account sshd accepts: create %s with scripts/setup-deps.sh (%s), or set PGSAFE_TEST_USER",
				s.User, err, p.describeExit(), DefaultTestUser, InstallHint)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SSH login at %s after %v: %v; %s", s.Addr, timeout, err, p.describeExit())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ClientConfig is an SSH client configuration for this server: User, the
// client key, and HostKey pinned.
func (s *SFTPServer) ClientConfig() *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.Signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
		Timeout:         5 * time.Second,
	}
}

// KnownHostsLine is the server's known_hosts line ("[127.0.0.1]:port
// ssh-ed25519 AAAA…").
func (s *SFTPServer) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
}

// Client opens an SFTP session as User with the client key; it is closed at
// cleanup.
func (s *SFTPServer) Client(t testing.TB) *sftp.Client {
	t.Helper()
	conn, err := ssh.Dial("tcp", s.Addr, s.ClientConfig())
	if err != nil {
		t.Fatalf("testenv: SSH login to %s as %s: %v", s.Addr, s.User, err)
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		t.Fatalf("testenv: starting SFTP on %s: %v", s.Addr, err)
	}
	t.Cleanup(func() {
		c.Close()
		conn.Close()
	})
	return c
}

func marshalKey(t testing.TB, key ed25519.PrivateKey, comment string) []byte {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return pem.EncodeToMemory(block)
}
