package filelock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// TryLockPID opens (creating it 0600) and locks the file at path without
// waiting, and writes this process's pid into it, so that whoever finds it
// held can name the holder. When it is held, it returns ErrHeld (wrapped)
// and the holder's pid (0 if the file does not say).
func TryLockPID(path string) (f *os.File, holder int, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, err
	}
	if err := TryLock(f); err != nil {
		f.Close()
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = pid
			}
		}
		return nil, holder, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, 0, nil
}
