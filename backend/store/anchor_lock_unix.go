//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, waiting for it; the system drops it
// when f is closed or the process ends, however it ends.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
