package sftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	pkgsftp "github.com/pkg/sftp"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// cancelGrace: a cancelled operation normally ends at once (no more data is
// sent, and the writes in flight are answered quickly); if the server does
// not answer within this time the connection is closed to end it.
var cancelGrace = 2 * time.Second

func (s *SFTP) Put(ctx context.Context, name string, r io.Reader) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), strings.Replace(storage.TempFilePattern(name), "*", hex.EncodeToString(rnd[:]), 1))

	var c *conn
	var f *pkgsftp.File
	err = s.do(ctx, "store "+name, func(cc *conn) error {
		c = cc
		err := s.mkdirs(c, path.Dir(name))
		if err == nil {
			f, err = c.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		}
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := c.sftp.Stat(s.root); errors.Is(serr, fs.ErrNotExist) {
				return userErr("the folder %q no longer exists on the SFTP server %s: create it again, or mount the disk it is on", s.root, s.cfg.Config)
			}
		}
		return err
	})
	if err != nil {
		return err
	}

	end := c.watch(ctx)
	defer end()
	f.Chmod(0o600) // like a local temporary file; some servers refuse: no matter
	src := storage.NewSource(ctx, r)
	// Not io.Copy: File.ReadFrom only writes concurrently when it knows the
	// stream's length; ReadFromWithConcurrency keeps up to 64 writes in flight.
	_, err = f.ReadFromWithConcurrency(src, 0)
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); ok && err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = rename(c, tmp, p)
	}
	if err != nil {
		err = s.explainPut(ctx, err, src, name, path.Dir(p), c)
		if c.alive() {
			c.sftp.Remove(tmp)
		}
		return err
	}
	return nil
}

// mkdirs creates the folders of rel (relative to the root) that are missing,
// never the root itself.
func (s *SFTP) mkdirs(c *conn, rel string) error {
	if rel == "." {
		return nil
	}
	full := path.Join(s.root, rel)
	fi, err := c.sftp.Stat(full)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return userErr("%q on the SFTP server %s is a file, where a folder is needed", full, s.cfg.Config)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := s.mkdirs(c, path.Dir(rel)); err != nil {
		return err
	}
	if err := c.sftp.Mkdir(full); err != nil {
		if fi, serr := c.sftp.Stat(full); serr == nil && fi.IsDir() {
			return nil // made meanwhile by another Put
		}
		return err
	}
	return nil
}

// rename moves the temporary file over the final name, replacing an older
// object atomically with posix-rename@openssh.com. Servers without it only
// rename onto a free name: the older object is removed first, so for a
// moment there is none.
func rename(c *conn, from, to string) error {
	if _, ok := c.sftp.HasExtension("posix-rename@openssh.com"); ok {
		return c.sftp.PosixRename(from, to)
	}
	err := c.sftp.Rename(from, to)
	if err != nil {
		if _, serr := c.sftp.Lstat(to); serr == nil {
			if err = c.sftp.Remove(to); err == nil {
				err = c.sftp.Rename(from, to)
			}
		}
	}
	return err
}
