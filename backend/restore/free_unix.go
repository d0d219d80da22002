//go:build !windows

package restore

import "golang.org/x/sys/unix"

// freeSpace is the space available to this user in dir's file system.
func freeSpace(dir string) (int64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
