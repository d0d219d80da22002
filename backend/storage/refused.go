package storage

import (
	"errors"
	"time"
)

// ErrDeleteRefused: the storage keeps the object and refuses to delete it —
// its credentials may write but not delete (a "write-only" policy), or the
// object is under a retention lock (S3 Object Lock) that has not ended. The
// object stays; for retention this is a decision of the storage, not a
// failure (docs/STORAGE.md).
var ErrDeleteRefused = errors.New("the storage refuses deletes")

// LockedError is a delete refused because the object is locked until Until.
// It matches ErrDeleteRefused.
type LockedError struct {
	Name  string
	Until time.Time
}

func (e *LockedError) Error() string {
	return e.Name + " is kept until " + e.Until.Local().Format("2006-01-02 15:04") + ": the storage's lock"
}

func (e *LockedError) Is(target error) bool { return target == ErrDeleteRefused }

// Locking is implemented by storages that lock what they write: each
// object is kept LockDays days from its upload (0: no lock).
type Locking interface {
	LockDays() int
}
