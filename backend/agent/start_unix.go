//go:build !windows

package agent

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// detached: the agent gets its own session, so the face's terminal, process
// group and signals (Ctrl+C, a closed terminal) never reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// detachStdout points standard output at /dev/null: the face stops reading
// it once the agent is ready, and a write to a pipe no one reads would end
// a Go program (SIGPIPE on fd 1).
func detachStdout() {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	unix.Dup2(int(null.Fd()), 1)
	null.Close()
}
