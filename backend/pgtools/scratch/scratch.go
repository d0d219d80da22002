// Package scratch starts a throwaway PostgreSQL cluster for a restore drill:
// initdb into a private temporary directory, a postgres that listens only on
// a Unix socket inside it (127.0.0.1 on Windows) with a random scram-sha-256
// password, durability switched off (nothing in it outlives the drill), and
// Close stops it and removes every file. Sweep removes what a PgSafe that
// died mid-drill left behind.
//
// PostgreSQL refuses to run as root (the superuser). PgSafe is a desktop
// app run by its user; as root, Start needs an unprivileged Owner to run the
// server as, or returns ErrRoot.
package scratch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Prefix starts the name of every cluster directory: Prefix + PgSafe's
// process ID + "-" + random, so Sweep can tell a live drill's from a dead one's.
const Prefix = "pgsafe-scratch-"

// User is the cluster's superuser.
const User = "pgsafe"

// socketPort names the Unix socket (.s.PGSQL.5432); nothing listens on TCP.
const socketPort = 5432

// ErrRoot: the process runs as root and no Owner was given.
var ErrRoot = errors.New("PostgreSQL refuses to run as the root user (the superuser), so PgSafe cannot start a throwaway server for the drill; run PgSafe as your normal user, or set a drill server")

// Owner is the unprivileged account the server runs as when PgSafe runs as
// root (tests in CI, a root service that names one).
type Owner struct {
	Name     string
	Uid, Gid uint32
}

// Options says which binaries to run and where.
type Options struct {
	// BinDir holds initdb and postgres (pg_ctl on Windows).
	BinDir string
	// Owner runs initdb and postgres as another user; only root may set it.
	Owner *Owner
	// Parent is where the cluster's directory is made; "" is the temporary
	// folder (short, as Unix socket paths are limited to ~100 bytes).
	Parent string
	// StartTimeout bounds initdb plus startup (0: 2 minutes).
	StartTimeout time.Duration
}

// Cluster is a running throwaway server.
type Cluster struct {
	Dir     string // private (0700): data/, the socket, server.log
	Version pgtools.Version

	binDir   string
	host     string
	port     int
	password string
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	log      string
	stopOnce sync.Once
	stopErr  error
}

// Start initialises and starts a cluster with the binaries in opts.BinDir,
// and returns once it accepts connections (or the first error, with the
// server's own words). The caller must Close it.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Owner == nil && isRoot() {
		return nil, ErrRoot
	}
	if opts.Owner != nil && !isRoot() {
		return nil, errors.New("scratch: only root can run the server as another user")
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	postgres := filepath.Join(opts.BinDir, exe("postgres"))
	v, err := pgtools.ProgramVersion(ctx, postgres)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL server in %s: %w", opts.BinDir, err)
	}
	parent := opts.Parent
	if parent == "" {
		parent = os.TempDir()
	}
	if opts.Owner != nil {
		abs, err := filepath.Abs(parent)
		if err != nil {
			return nil, err
		}
		if err := reachable(abs, opts.Owner); err != nil {
			return nil, fmt.Errorf("the drill server cannot run as %s: %w", opts.Owner.Name, err)
		}
	}
	dir, err := os.MkdirTemp(parent, Prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("create the drill server's folder: %w", err)
	}
	c = &Cluster{Dir: dir, Version: v, binDir: opts.BinDir, host: dir, port: socketPort,
		password: randomHex(24), log: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return c, fmt.Errorf("create the drill server's folder: %w", err)
	}
	if opts.Owner != nil {
		if err := os.Chown(dir, int(opts.Owner.Uid), int(opts.Owner.Gid)); err != nil {
			return c, fmt.Errorf("give the drill server's folder to %s: %w", opts.Owner.Name, err)
		}
	}
	if runtime.GOOS == "windows" {
		c.host = "127.0.0.1"
		if c.port, err = freePort(); err != nil {
			return c, err
		}
	}
	if err := c.initdb(ctx, opts.Owner); err != nil {
		return c, err
	}
	if err := c.start(opts.Owner); err != nil {
		return c, err
	}
	return c, c.waitReady(ctx)
}

// initdb creates the data directory: superuser User with the random
// password (handed over a pipe where the OS allows, else a 0600 file in the
// private folder removed right after), scram-sha-256 for every connection.
func (c *Cluster) initdb(ctx context.Context, owner *Owner) error {
	pw, cleanup, extra, err := passwordFile(c.Dir, c.password, owner)
	if err != nil {
		return err
	}
	defer cleanup()
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, exe("initdb")),
		"-D", filepath.Join(c.Dir, "data"), "-U", User, "--auth=scram-sha-256", "--pwfile="+pw,
		"-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = c.Dir
	cmd.Env = serverEnv(c.Dir)
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = sysProcAttr(owner, false)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb (PostgreSQL %s in %s) failed: %v: %s", c.Version, c.binDir, err, lastLines(out.String(), 5))
	}
	return nil
}

// start runs postgres in the background, its output in server.log.
func (c *Cluster) start(owner *Owner) error {
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("drill server log: %w", err)
	}
	defer logf.Close()
	listen := "" // the Unix socket only
	if runtime.GOOS == "windows" {
		listen = "127.0.0.1"
	}
	args := []string{"-D", filepath.Join(c.Dir, "data"), "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=" + listen,
		// Throwaway: nothing needs to survive a crash.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "autovacuum=off", "-c", "jit=off", "-c", "max_connections=30"}
	if runtime.GOOS != "windows" {
		args = append(args, "-k", c.Dir, "-c", "unix_socket_permissions=0700")
	}
	cmd := exec.Command(filepath.Join(c.binDir, exe("postgres")), args...)
	cmd.Dir = c.Dir
	cmd.Env = serverEnv(c.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(owner, true)
	// Started and waited for on one locked OS thread: Linux's parent-death
	// signal follows the thread that forked, and Go may end idle threads.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start PostgreSQL %s from %s: %w", c.Version, c.binDir, err)
	}
	c.cmd = cmd
	return nil
}

// waitReady connects until the server answers, it exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	cfg, err := c.Conn("postgres").PgxConfig()
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = 5 * time.Second
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("PostgreSQL %s exited while starting (%v): %s", c.Version, c.waitErr, c.serverLog())
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL %s did not accept connections in time: %v; server log: %s", c.Version, err, c.serverLog())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Conn is the connection to database db as the superuser (for restoring).
func (c *Cluster) Conn(db string) pgtools.Conn {
	return pgtools.Conn{Host: c.host, Port: c.port, Database: db, User: User, Password: c.password,
		SSLMode: "disable", AllowWrite: true, ConnectTimeout: 10 * time.Second}
}

// Close stops the server (fast shutdown, then kill after 30 s) and removes
// its folder. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.stopOnce.Do(func() {
		if c.cmd != nil {
			c.stopErr = stop(c.cmd, c.done, c.binDir, filepath.Join(c.Dir, "data"))
		}
		if err := os.RemoveAll(c.Dir); err != nil {
			c.stopErr = errors.Join(c.stopErr, fmt.Errorf("remove the drill server's folder: %w", err))
		}
	})
	return c.stopErr
}

// Pid is the server's process ID (0 before it started).
func (c *Cluster) Pid() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func (c *Cluster) serverLog() string {
	b, _ := os.ReadFile(c.log)
	return lastLines(string(b), 8)
}

// serverEnv is this process's environment without libpq variables, with HOME
// in the private folder.
func serverEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}
