//go:build !unix

package testenv

import "syscall"

// procAttr: the harness's servers are Unix programs; on other systems the
// helpers fail when they look for them, and children run as the current user.
func procAttr(_ *runUser, _ bool) *syscall.SysProcAttr { return nil }
