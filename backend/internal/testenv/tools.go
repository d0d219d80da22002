package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint is the command that installs every tool the harness needs.
const InstallHint = "make test-deps"

// RepoRoot returns the repository root: the nearest directory at or above the
// working directory that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory", dir)
		}
	}
}

// ToolsDir returns where test tools are installed: $PGSAFE_TOOLS_DIR, else
// <repo root>/.tools. The directory need not exist.
func ToolsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PGSAFE_TOOLS_DIR"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatalf("testenv: PGSAFE_TOOLS_DIR=%q: %v", d, err)
		}
		return abs
	}
	return filepath.Join(RepoRoot(t), ".tools")
}

// requireExecutable fails the test unless path is an executable file; what
// names the tool and hint tells how to install it.
func requireExecutable(t testing.TB, path, what, hint string) {
	t.Helper()
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		t.Fatalf("testenv: %s not found at %s (%v); install it with: %s", what, path, err, hint)
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		t.Fatalf("testenv: %s at %s is not an executable file; reinstall it with: %s", what, path, hint)
	}
}

// systemTool returns the absolute path of a system program, trying the given
// absolute paths first and then $PATH; it fails the test when none exists.
func systemTool(t testing.TB, name, pkg string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0 {
			return c
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	t.Fatalf("testenv: %s not found (looked in %s and $PATH); install the Debian package %s: %s (or scripts/setup-deps.sh)",
		name, strings.Join(candidates, ", "), pkg, InstallHint)
	return ""
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. Callers
// that bind it later retry on a clash.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitTCP waits until something accepts connections on addr, or the process
// p exits, or the timeout passes.
func waitTCP(addr string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited before listening on %s", p.name, addr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listening on %s after %v: %v", addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tempDir makes a fresh directory with a short path (Unix socket paths are
// limited to 107 bytes, and t.TempDir paths grow with the test name) and
// removes it at cleanup. If owner is not nil, the directory belongs to that
// user so a server running as it can write there; its parent (os.TempDir) is
// world-traversable, unlike t.TempDir's directories as root.
func tempDir(t testing.TB, prefix string, owner *runUser) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgsafe-"+prefix+"-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("testenv: removing %s: %v", dir, err)
		}
	})
	if owner != nil {
		if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
			t.Fatalf("testenv: chown %s to %s: %v", dir, owner.Name, err)
		}
	}
	return dir
}

// writeFile writes a file and, if owner is not nil, gives it to that user.
func writeFile(t testing.TB, path string, data []byte, perm os.FileMode, owner *runUser) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if owner != nil {
		if err := os.Chown(path, int(owner.Uid), int(owner.Gid)); err != nil {
			t.Fatalf("testenv: chown %s: %v", path, err)
		}
	}
}

// runUser is the unprivileged account servers run as when the tests run as
// root.
type runUser struct {
	Name     string
	Uid, Gid uint32
	Home     string
}

// DefaultTestUser is the account that setup-deps.sh creates for servers that
// must not run as root.
const DefaultTestUser = "pgsafe-test"

// serverUser returns the account to run servers as: nil when the tests do not
// run as root (servers then run as the current user); as root,
// $PGSAFE_TEST_USER, else pgsafe-test, else nobody.
func serverUser(t testing.TB) *runUser {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	names := []string{DefaultTestUser, "nobody"}
	if env := os.Getenv("PGSAFE_TEST_USER"); env != "" {
		names = []string{env}
	}
	for _, name := range names {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &runUser{Name: u.Username, Uid: uint32(uid), Gid: uint32(gid), Home: u.HomeDir}
	}
	t.Fatalf("testenv: running as root, and none of the users %v exists to run servers as; create one with scripts/setup-deps.sh (%s) or set PGSAFE_TEST_USER",
		names, InstallHint)
	return nil
}

// currentUserName is the login name servers see for the current user.
func currentUserName(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("testenv: current user: %v", err)
	}
	return u.Username
}

// syncBuffer collects a process's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded for chatty servers
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a long-running child process owned by one test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // Wait's result, valid after done is closed
}

// startProc starts cmd (as owner when not nil), arranges for it to be killed
// if the test binary dies, and stops it at cleanup (SIGTERM, then SIGKILL
// after 5 s). Its output is kept and logged if the test failed.
func startProc(t testing.TB, name string, cmd *exec.Cmd, owner *runUser) *proc {
	t.Helper()
	return startProcAttr(t, name, cmd, owner, true)
}

// startProcAttr is startProc; killOnParentDeath false lets the process
// outlive the test binary (the PostgreSQL watchdog must).
func startProcAttr(t testing.TB, name string, cmd *exec.Cmd, owner *runUser, killOnParentDeath bool) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	cmd.SysProcAttr = procAttr(owner, killOnParentDeath)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting %s (%s): %v", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM, 5*time.Second)
		if t.Failed() {
			if out := strings.TrimSpace(p.out.String()); out != "" {
				t.Logf("testenv: output of %s:\n%s", name, out)
			}
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the process and waits for it, killing it if it outlives grace.
// The signal goes to the process group the child leads, so helpers it forked
// (e.g. sshd's per-connection processes) get it too.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = signalGroup(p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// runTool runs a short-lived command (as owner when not nil) and returns its
// combined output; it gives up after timeout.
func runTool(owner *runUser, dir string, env []string, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = procAttr(owner, true)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", filepath.Base(name), timeout, err)
	}
	return string(out), err
}

// describeExit explains why a process that should be running is not.
func (p *proc) describeExit() string {
	select {
	case <-p.done:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			return fmt.Sprintf("%s exited (%v); output:\n%s", p.name, ee, p.out.String())
		}
		return fmt.Sprintf("%s exited (err=%v); output:\n%s", p.name, p.err, p.out.String())
	default:
		return fmt.Sprintf("%s still running; output so far:\n%s", p.name, p.out.String())
	}
}

// PagilaSchema is the path of the Pagila sample schema kept in testenv's
// testdata (a public schema nobody here wrote: domains with non-ASCII names,
// enums, partitioned tables, views, materialized views, functions, triggers).
func PagilaSchema(t testing.TB) string {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "backend", "internal", "testenv", "testdata", "pagila-schema.sql")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("testenv: the Pagila schema is missing: %v", err)
	}
	return path
}

// OtherUser is an account other than the one the tests run as (the one
// servers run as), for tests that prove another user is refused. It needs
// root, as CI has: without it the test fails saying so.
func OtherUser(t testing.TB) (uid, gid uint32) {
	t.Helper()
	u := serverUser(t)
	if u == nil {
		t.Fatalf("testenv: acting as a second user needs root (CI runs the tests as root); run this test as root")
	}
	return u.Uid, u.Gid
}

// FullDisk mounts a tmpfs of sizeMiB MiB at dir, owned by uid:gid, and
// unmounts it when the test ends: a disk a test can fill. Mounting needs
// root (CI runs the tests as root); as anyone else the test fails saying so.
func FullDisk(t testing.TB, dir string, sizeMiB int, uid, gid uint32) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("testenv: mounting a small file system to fill needs root (CI runs the tests as root); run this test as root")
	}
	opts := fmt.Sprintf("size=%dm,uid=%d,gid=%d,mode=0700", sizeMiB, uid, gid)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("testenv: mount a %d MiB tmpfs at %s: %v\n%s", sizeMiB, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("testenv: umount %s: %v\n%s", dir, err, out)
		}
	})
}
