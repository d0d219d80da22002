//go:build !windows

package audit

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive lock on f, waiting for it; the system drops it
// when f is closed or the process ends, however it ends.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) { // the runtime's signals interrupt the wait
			return err
		}
	}
}
