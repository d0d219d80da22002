package credcmd

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// sysProcAttr runs the command without a console window (the agent has no
// console).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NO_WINDOW}
}

// killGroup kills the command (Windows has no process groups to signal).
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}

// signalOf: Windows reports exit codes only.
func signalOf(*exec.ExitError) string { return "" }
