//go:build !windows

package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// SocketPath is where the agent of the settings directory home listens:
// home/agent.sock, or, when that path is too long for a socket, a socket
// named after home in a 0700 directory of the user's own under the
// system's temporary directory.
func SocketPath(home string) string {
	p := filepath.Join(home, SocketName)
	if len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join(os.TempDir(), "pgsafe-"+strconv.Itoa(os.Getuid()), endpointID(home)+".sock")
}

// Listen opens the agent's endpoint for home. Only this user can connect:
// the socket is 0600 in a directory only they can enter, and on Linux and
// macOS each connection's peer is checked to be this user (Accept drops any
// other). The caller holds the agent lock, so a socket file left by an
// agent that died is stale and replaced.
func Listen(home string, log *slog.Logger) (net.Listener, error) {
	path := SocketPath(home)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the agent's directory: %w", err)
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove the old agent socket %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("protect %s: %w", path, err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &ownerListener{UnixListener: ln, uid: os.Getuid(), log: log}, nil
}

// privateDir checks that dir belongs to this user and no one else may
// enter it (it tightens the mode if it can).
func privateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d): PgSafe's agent will not listen there", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("%s can be entered by other users and cannot be protected: %w", dir, err)
		}
	}
	return nil
}

// ownerListener accepts only connections from uid.
type ownerListener struct {
	*net.UnixListener
	uid int
	log *slog.Logger
}

func (l *ownerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		if err != nil {
			l.log.Warn("agent: refused a connection whose user cannot be told", "err", err)
		} else {
			l.log.Warn("agent: refused a connection from another user", "uid", uid)
		}
		c.Close()
	}
}

// dial connects to the agent of home, and makes sure the process that
// answers is this user's: a face sends passwords typed into its forms, so it
// must not talk to a socket someone else put in the agent's place.
func dial(ctx context.Context, home string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", SocketPath(home))
	if err != nil {
		return nil, err
	}
	if err := ownPeer(c.(*net.UnixConn)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ownPeer checks that the other end of c runs as this user.
func ownPeer(c *net.UnixConn) error {
	uid, err := peerUID(c)
	if err != nil {
		return fmt.Errorf("cannot tell who answers on %s: %w", c.RemoteAddr(), err)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("the process answering on %s runs as another user (uid %d), not PgSafe's agent: not talking to it", c.RemoteAddr(), uid)
	}
	return nil
}

// notRunning reports whether a dial error means no agent listens.
func notRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}
