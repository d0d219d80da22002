//go:build linux

package testenv

import "syscall"

// procAttr runs a child as owner (when not nil) in its own process group, and
// with killOnParentDeath it gets SIGKILL if the test binary dies without
// running its cleanups (e.g. on a test timeout).
func procAttr(owner *runUser, killOnParentDeath bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if killOnParentDeath {
		a.Pdeathsig = syscall.SIGKILL
	}
	if owner != nil {
		a.Credential = &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid, Groups: []uint32{}}
	}
	return a
}

// signalGroup signals the process group a child leads (procAttr sets
// Setpgid), reaching the helpers it forked too.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }

var errXattrUnsupported = syscall.ENOTSUP

func setXattr(path, name string, value []byte) error { return syscall.Setxattr(path, name, value, 0) }
