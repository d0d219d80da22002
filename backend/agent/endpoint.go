package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// SocketName is the agent's endpoint in the settings directory (Linux,
// macOS): a Unix socket, mode 0600 in a 0700 directory.
const SocketName = "agent.sock"

// maxSocketPath: a Unix socket's path must fit sockaddr_un (104 bytes on
// macOS, 108 on Linux, with the terminating NUL).
const maxSocketPath = 100

// endpointID names a settings directory in places shared by every
// settings directory of the user (a named pipe, a short socket path).
func endpointID(home string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(home)))
	return hex.EncodeToString(sum[:8])
}
