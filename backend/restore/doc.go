// Package restore reads backups back: Verify checks a stored backup end to end
// without a database (hash, every chunk, the archive's table of contents
// against the manifest), Drill restores it into a scratch database and
// compares row counts with the manifest, and Restore puts it into a
// database the user chose, with write credentials used once. See
// docs/RESTORE.md.
package restore

import (
	"context"
	"io"
)

// Source is what reading a backup needs of a storage.
type Source interface {
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}
