package agent

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// detached: the agent has no console and its own process group, so closing
// the face's console never ends it.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
}

// detachStdout points standard output at NUL: the face stops reading it
// once the agent is ready.
func detachStdout() {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	windows.SetStdHandle(windows.STD_OUTPUT_HANDLE, windows.Handle(null.Fd()))
	os.Stdout = null
}
