package pgtools

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// sysProcAttr starts pg_dump and pg_restore (console programs) without a
// console window: the agent has no console, and Windows would otherwise open
// a new one on the desktop for every backup. Their output comes through
// pipes either way.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NO_WINDOW}
}

// terminate kills the program: Windows has no SIGTERM.
func terminate(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
