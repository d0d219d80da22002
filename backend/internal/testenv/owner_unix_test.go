//go:build unix

package testenv

import (
	"os"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// checkOwnedBy asserts that path belongs to the user servers run as: the
// current user, or (tests running as root) the unprivileged server user, so
// never root in that case.
func checkOwnedBy(t *testing.T, path, wantUser string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	u, err := user.Lookup(wantUser)
	if err != nil {
		t.Fatal(err)
	}
	if u.Uid != strconv.FormatUint(uint64(uid), 10) {
		t.Errorf("%s belongs to uid %d, want %s (uid %s)", path, uid, wantUser, u.Uid)
	}
	if os.Geteuid() == 0 && uid == 0 {
		t.Errorf("%s belongs to root: the server ran as root", path)
	}
}
