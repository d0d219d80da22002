package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	f, holder, err := filelock.TryLockPID(path)
	if errors.Is(err, filelock.ErrHeld) {
		note := ""
		if holder > 0 {
			note = fmt.Sprintf(" (pid %d)", holder)
		}
		return nil, fmt.Errorf("another PgSafe%s is already running the schedules of %s (its agent or `pgsafe run`; %s is locked): let it do the work, or stop it first", note, home, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open the agent lock %s: %w", path, err)
	}
	return f, nil
}

// startLockName serialises the faces' Ensure: the face that holds it checks
// for an agent and starts one, and the next finds that agent listening.
const startLockName = "agent.start.lock"

// waitLock takes the lock at path, waiting for it until ctx ends; release
// lets it go. A wait cut short by ctx leaves a goroutine blocked until the
// holder lets go (a blocked flock cannot be interrupted), which then
// releases at once.
func waitLock(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- filelock.Lock(f) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, err
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		go func() { <-done; f.Close() }()
		return nil, ctx.Err()
	}
}
