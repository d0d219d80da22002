//go:build !windows

package pgtools

import "golang.org/x/sys/unix"

// processAlive reports whether process pid exists (EPERM: it does, as another
// user's).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || err == unix.EPERM
}
