package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/internal/filelock"
)

// LockName is the agent's lock in the settings directory: held for the
// agent's whole life (the system drops it when the process ends, however it
// ends), so there is one agent per settings directory, and WaitExit can tell
// when it is gone.
const LockName = "agent.lock"

// lock takes the agent lock of home without waiting; it fails at once,
// naming the holder's pid, if another agent has it.
func lock(home string) (*os.File, error) {
	path := filepath.Join(home, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the agent lock %s: %w", path, err)
	}
	if err := filelock.TryLock(f); err != nil {
		f.Close()
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf(" (pid %d)", pid)
			}
		}
		return nil, fmt.Errorf("another PgSafe%s is already running the schedules of %s (its agent or `pgsafe run`; %s is locked): let it do the work, or stop it first", holder, home, path)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}
