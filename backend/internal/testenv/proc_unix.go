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
