package sftp

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/pgsafe/pgsafe/backend/tunnel"
)

// Keepalive: a server that stops answering (a network that silently went
// away, a laptop that slept) is dropped after keepaliveEvery+keepaliveWait,
// so a Put waiting on it fails instead of hanging. The wait is generous: on
// a slow uplink the probe queues behind up to 2 MiB of upload.
var (
	keepaliveEvery = 15 * time.Second
	keepaliveWait  = 60 * time.Second
)

// conn is one SSH connection and its SFTP session, shared by all operations
// (pkg/sftp's client is safe for concurrent use).
type conn struct {
	ssh  *ssh.Client
	sftp *pkgsftp.Client
	dead chan struct{} // closed when the connection has ended or is closed
	once sync.Once
}

func dial(ctx context.Context, cfg tunnel.Config) (*conn, error) {
	sc, err := tunnel.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Concurrent writes may leave holes after a failed write: harmless here,
	// as a failed Put removes its temporary file.
	client, err := pkgsftp.NewClient(sc, pkgsftp.UseConcurrentWrites(true))
	if err != nil {
		sc.Close()
		return nil, errors.New("the SSH server " + cfg.String() + " does not offer SFTP to this user (is the SFTP subsystem enabled?): " + err.Error())
	}
	c := &conn{ssh: sc, sftp: client, dead: make(chan struct{})}
	go func() {
		sc.Wait()
		c.close()
	}()
	go c.keepalive(keepaliveEvery, keepaliveWait)
	return c, nil
}

func (c *conn) alive() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

// close ends the connection; anything waiting on it fails at once.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.dead)
		c.ssh.Close() // first: closing the SFTP session may wait on a stuck write
		c.sftp.Close()
	})
}

// lost reports whether err means the connection is gone (rather than the
// server refusing an operation).
func (c *conn) lost(err error) bool {
	return !c.alive() || errors.Is(err, pkgsftp.ErrSSHFxConnectionLost) ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}

func (c *conn) keepalive(every, wait time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timer := time.NewTimer(wait)
		select {
		case err := <-reply:
			timer.Stop()
			if err != nil {
				c.close()
				return
			}
		case <-timer.C:
			c.close()
			return
		case <-c.dead:
			timer.Stop()
			return
		}
	}
}

// client returns the live connection, dialling a new one if there is none
// or the last one died (a long-lived app keeps the storage across network
// changes and server restarts).
func (s *SFTP) client(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New(s.String() + " is closed")
	}
	if s.conn != nil && s.conn.alive() {
		return s.conn, nil
	}
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	c, err := dial(ctx, s.cfg.Config)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// do runs op on the live connection; if the connection turns out to be
// gone, it redials once and runs op again (op must be safe to repeat). An
// error of op is explained as failing to do what.
func (s *SFTP) do(ctx context.Context, what string, op func(*conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.client(ctx)
		if err != nil {
			return err
		}
		end := c.watch(ctx)
		err = op(c)
		end()
		if err == nil || attempt > 0 || ctx.Err() != nil || !c.lost(err) {
			return s.explain(err, what, c)
		}
		c.close() // so client redials
	}
}

// watch closes c if ctx is cancelled and the operation has not ended
// cancelGrace later, so that a server that does not answer cannot hold up a
// cancelled operation. Call end when the operation has ended.
func (c *conn) watch(ctx context.Context) (end func()) {
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			c.close()
		}
	})
	return func() {
		stop()
		close(done)
	}
}
