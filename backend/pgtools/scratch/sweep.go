package scratch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sweep removes the cluster folders in parent ("" is the temporary folder)
// that PgSafe processes which have ended left behind (killed mid-drill),
// stopping their server first if it still runs, and returns their paths. A
// folder of a process still running (a drill under way) is left alone.
func Sweep(parent string) (removed []string) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), Prefix) {
			continue
		}
		pidPart, _, ok := strings.Cut(strings.TrimPrefix(e.Name(), Prefix), "-")
		pid, err := strconv.Atoi(pidPart)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || alive(pid) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		stopOrphan(filepath.Join(dir, "data"))
		if os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// stopOrphan stops the postmaster whose lock file (postmaster.pid: its
// process ID, then its data directory) is in dataDir, if it still runs.
func stopOrphan(dataDir string) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || strings.TrimSpace(lines[1]) != dataDir {
		return
	}
	if alive(pid) && isPostmasterOf(pid, dataDir) {
		kill(pid)
	}
}
