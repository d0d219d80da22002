// Package filelock takes exclusive locks on open files, across processes:
// flock on Unix, LockFileEx on Windows. The system drops a lock when its file
// is closed or its process ends, however it ends (kill -9, a crash), so a
// lock never outlives its holder. PgSafe uses it for the scheduler, each
// database's backups, the audit checkpoint, the settings anchor and the
// first creation of the master key.
package filelock

import "errors"

// ErrHeld: TryLock found the lock held by another process (or another open
// file of this one).
var ErrHeld = errors.New("the lock is held by another process")
