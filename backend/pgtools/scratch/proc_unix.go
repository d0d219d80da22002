//go:build !windows

package scratch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func isRoot() bool { return os.Geteuid() == 0 }

// sysProcAttr runs a server program in its own process group (so Close can
// stop the backends it forked too), as owner when set; the long-running
// postgres also gets an immediate shutdown if PgSafe dies (Linux).
func sysProcAttr(owner *Owner, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if server {
		setParentDeathSignal(a)
	}
	if owner != nil {
		a.Credential = &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid, Groups: []uint32{}}
	}
	return a
}

// passwordFile hands initdb the password over a pipe (/dev/fd/3): it never
// touches a disk.
func passwordFile(_ string, password string, owner *Owner) (path string, cleanup func(), extra []*os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, nil, fmt.Errorf("password pipe: %w", err)
	}
	if owner != nil {
		// The server's user must be able to open the pipe by its /dev/fd name.
		if err := r.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
			r.Close()
			w.Close()
			return "", nil, nil, fmt.Errorf("password pipe: %w", err)
		}
	}
	go func() {
		w.Write([]byte(password + "\n"))
		w.Close()
	}()
	return "/dev/fd/3", func() { r.Close() }, []*os.File{r}, nil
}

// stop asks postgres for a fast shutdown (SIGINT) and kills its process
// group if it is still there after 30 s.
func stop(cmd *exec.Cmd, done <-chan struct{}, _ string, _ string) error {
	pid := cmd.Process.Pid
	select {
	case <-done:
		return nil
	default:
	}
	_ = unix.Kill(pid, unix.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = unix.Kill(-pid, unix.SIGKILL)
		<-done
	}
	// Backends leave on the postmaster's exit; make sure none lingers.
	_ = unix.Kill(-pid, unix.SIGKILL)
	return nil
}

func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || err == unix.EPERM
}

// kill stops an orphaned postmaster: immediate shutdown, then SIGKILL to
// its process group after 10 s.
func kill(pid int) {
	_ = unix.Kill(pid, unix.SIGQUIT)
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = unix.Kill(-pid, unix.SIGKILL)
	_ = unix.Kill(pid, unix.SIGKILL)
}

// isPostmasterOf says whether process pid is the postmaster of dataDir (its
// working directory is the data directory), where the OS can tell.
func isPostmasterOf(pid int, dataDir string) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		// No /proc (macOS): the lock file named this data directory, and
		// the process lives.
		_, statErr := os.Stat("/proc/self")
		return statErr != nil
	}
	want, _ := filepath.EvalSymlinks(dataDir)
	return cwd == dataDir || cwd == want
}

// reachable says whether owner can enter dir: every folder from the root
// down must be searchable by it (PostgreSQL, run as owner, opens its data
// directory by path).
func reachable(dir string, owner *Owner) error {
	for d := dir; ; d = filepath.Dir(d) {
		var st unix.Stat_t
		if err := unix.Stat(d, &st); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		var bit uint32 = 0o001
		switch {
		case st.Uid == owner.Uid:
			bit = 0o100
		case st.Gid == owner.Gid:
			bit = 0o010
		}
		if uint32(st.Mode)&bit == 0 {
			return fmt.Errorf("user %s cannot enter %s, which holds the drill server's folder: choose a temporary folder every user can enter (TMPDIR)", owner.Name, d)
		}
		if p := filepath.Dir(d); p == d {
			return nil
		}
	}
}
