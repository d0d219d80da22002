//go:build unix && !linux

package testenv

import "syscall"

// procAttr runs a child as owner (when not nil) in its own process group.
// Outside Linux there is no parent-death signal: cleanups stop the children.
func procAttr(owner *runUser, _ bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if owner != nil {
		a.Credential = &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid, Groups: []uint32{}}
	}
	return a
}

// signalGroup signals the process group a child leads (procAttr sets
// Setpgid), reaching the helpers it forked too.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }

var errXattrUnsupported = syscall.ENOTSUP

// setXattr: the probe only matters on Linux; elsewhere assume xattrs work.
func setXattr(string, string, []byte) error { return nil }
