// Package storage is the one interface every place backups are kept
// implements (a local folder, S3, SFTP, …; one package each), with the
// promises the backup engine relies on. See docs/STORAGE.md.
package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"
)

// Storage keeps objects under slash-separated names.
//
// Put is all-or-nothing: the object appears under name only once the whole
// stream was read and stored durably. A Put that fails or is cancelled —
// including when r returns an error midway — leaves nothing under name (and
// an older object of that name is untouched).
type Storage interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	Stat(ctx context.Context, name string) (Info, error)
	// List returns the objects whose names start with prefix, in name order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes an object; a missing one is ErrNotFound.
	Delete(ctx context.Context, name string) error
	// String names the storage for messages (no secrets).
	String() string
}

// Info describes an object.
type Info struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// ErrNotFound: no object of that name. It matches fs.ErrNotExist too.
var ErrNotFound = notFound{}

type notFound struct{}

func (notFound) Error() string        { return "no such object" }
func (notFound) Is(target error) bool { return target == fs.ErrNotExist }

// Usage is implemented by storages that can tell their free space.
type Usage interface {
	Free(ctx context.Context) (free int64, err error)
}

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) }

// Spacer is a storage that can tell its free space (a local folder can; S3
// cannot). Free is what this user may still write; Total the file system's
// size.
type Spacer interface {
	Space(ctx context.Context) (free, total int64, err error)
}

// Temp is what an unfinished Put left in a storage: a temporary file (a
// folder, SFTP) or an incomplete multipart upload (S3).
type Temp struct {
	// Name is the temporary object's own name (a file's path; an S3 key and
	// upload ID), for messages.
	Name string `json:"name"`
	// Object is the name the Put was storing, or "" if unknown (a temporary
	// file of an older PgSafe).
	Object string `json:"object"`
	// Modified is when it was last written (S3: when the upload started).
	Modified time.Time `json:"modified"`
}

// TempSweeper is implemented by every storage whose Put can leave something
// behind when the process doing it is killed (kill -9, a crash, a power
// cut): a Put cancelled in any other way removes its own.
type TempSweeper interface {
	// RemoveTemp removes the temporary objects under prefix for which stale
	// returns true, and returns those it removed. A Put whose temporary
	// object is removed while it runs fails (and stores nothing); the caller
	// must pass only what no Put is still writing.
	RemoveTemp(ctx context.Context, prefix string, stale func(Temp) bool) ([]Temp, error)
}

// Expiring is implemented, instead of TempSweeper, by a storage whose
// unfinished uploads are invisible and dropped by the service itself (a
// Dropbox or OneDrive upload session): a Put killed midway leaves nothing
// that can be listed, billed or swept, only a session the service forgets
// after UploadExpiry (0: the service sets each upload's expiry itself and
// documents no figure, as OneDrive does).
type Expiring interface {
	UploadExpiry() time.Duration
}
