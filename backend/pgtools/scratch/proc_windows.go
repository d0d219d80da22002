package scratch

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

func isRoot() bool { return false }

func sysProcAttr(*Owner, bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// passwordFile writes the password into the private folder (0600 there,
// and the folder is the user's own); it is removed right after initdb.
func passwordFile(dir, password string, _ *Owner) (string, func(), []*os.File, error) {
	p := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(p, []byte(password+"\n"), 0o600); err != nil {
		return "", nil, nil, fmt.Errorf("initdb password file: %w", err)
	}
	return p, func() { os.Remove(p) }, nil, nil
}

// stop asks for a fast shutdown with pg_ctl (Windows has no signals), then
// kills the postmaster after 30 s.
func stop(cmd *exec.Cmd, done <-chan struct{}, binDir, dataDir string) error {
	select {
	case <-done:
		return nil
	default:
	}
	pgctl := exec.Command(filepath.Join(binDir, "pg_ctl.exe"), "-D", dataDir, "-m", "fast", "-w", "-t", "30", "stop")
	_ = pgctl.Run()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return nil
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

func kill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func isPostmasterOf(int, string) bool { return true }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for the drill server: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func reachable(string, *Owner) error { return nil }
