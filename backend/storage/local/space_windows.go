//go:build windows

package local

import (
	"context"
	"fmt"

	"golang.org/x/sys/windows"
)

// Space is the folder's volume: space this user may still write, and its
// size.
func (l *Local) Space(ctx context.Context) (free, total int64, err error) {
	p, err := windows.UTF16PtrFromString(l.root)
	if err != nil {
		return 0, 0, err
	}
	var avail, size, all uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &size, &all); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", l.root, err)
	}
	return int64(avail), int64(size), nil
}
