//go:build !unix

package testenv

import (
	"errors"
	"os"
	"syscall"
)

// procAttr: the harness's servers are Unix programs; on other systems the
// helpers fail when they look for them, and children run as the current user.
func procAttr(_ *runUser, _ bool) *syscall.SysProcAttr { return nil }

func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

var errXattrUnsupported = errors.New("xattrs unsupported")

func setXattr(string, string, []byte) error { return errXattrUnsupported }
