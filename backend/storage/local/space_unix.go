//go:build !windows

package local

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// Space is the folder's file system: space this user may still write, and
// its size.
func (l *Local) Space(ctx context.Context) (free, total int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(l.root, &st); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", l.root, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}
