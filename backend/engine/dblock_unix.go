//go:build !windows

package engine

import (
	"errors"

	"golang.org/x/sys/unix"
)

// lockHeld reports whether tryLock failed because another holds the lock.
func lockHeld(err error) bool { return errors.Is(err, unix.EWOULDBLOCK) }
