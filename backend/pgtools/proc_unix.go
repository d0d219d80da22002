//go:build !windows

package pgtools

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts a client program in its own process group, so a terminal's
// Ctrl-C reaches PgSafe (which then stops it cleanly) rather than both.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminate asks the program's process group to stop (SIGTERM); exec's
// WaitDelay kills it if it does not.
func terminate(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
}
