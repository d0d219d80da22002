package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// PipeName is the named pipe the agent of the settings directory home
// listens on. Settings directories are per user (%APPDATA%), so the name,
// derived from the directory, is too.
func PipeName(home string) string { return `\\.\pipe\pgsafe-agent-` + endpointID(home) }

// SocketPath is PipeName on Windows (the endpoint's address, for messages).
func SocketPath(home string) string { return PipeName(home) }

// Listen opens the agent's endpoint for home: a named pipe whose access
// list (a protected DACL) grants this user alone, created as the pipe's
// first instance, so that no one can have created it before the agent.
func Listen(home string, log *slog.Logger) (net.Listener, error) {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("read this user's security identifier: %w", err)
	}
	sddl := "D:P(A;;GA;;;" + u.User.Sid.String() + ")"
	ln, err := winio.ListenPipe(PipeName(home), &winio.PipeConfig{SecurityDescriptor: sddl})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", PipeName(home), err)
	}
	return ln, nil
}

// dial connects to the agent of home.
func dial(ctx context.Context, home string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, PipeName(home))
}

// notRunning reports whether a dial error means no agent listens.
func notRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND)
}
