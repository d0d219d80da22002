//go:build !linux && !darwin && !windows

package agent

import (
	"errors"
	"net"
)

// peerUID cannot tell the peer's user here: only the socket's 0600 mode in
// a 0700 directory keeps other users out, and Accept refuses every
// connection rather than trust that alone.
func peerUID(c *net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are not available on this system")
}
