//go:build !windows

package credcmd

import (
	"errors"
	"os/exec"
	"syscall"
)

// sysProcAttr runs the command in a process group of its own, so that a
// timeout or a cancel stops what it started too (a helper, a pipeline in sh -c).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the command's process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// signalOf names the signal that killed the command ("" if it exited).
func signalOf(ee *exec.ExitError) string {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return ""
}
