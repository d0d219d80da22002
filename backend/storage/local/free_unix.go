//go:build !windows

package local

import (
	"context"

	"golang.org/x/sys/unix"
)

// Free is the space left for this user in the folder's file system.
func (l *Local) Free(context.Context) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(l.root, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
