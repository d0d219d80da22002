package engine

import (
	"errors"

	"golang.org/x/sys/windows"
)

// lockHeld reports whether tryLock failed because another holds the lock.
func lockHeld(err error) bool { return errors.Is(err, windows.ERROR_LOCK_VIOLATION) }
