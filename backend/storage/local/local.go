// Package local is a storage in a folder of this machine: a disk, a mounted
// NAS share, a USB drive. Objects are files; a Put writes a temporary file in
// the same folder, syncs it and renames it into place, so a file under its
// final name is always complete.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// tmpPrefix starts temporary files; List never shows them.
const tmpPrefix = storage.TempPrefix

// Local is a folder.
type Local struct{ root string }

// New returns the storage in folder root, which must exist (a storage that
// silently creates its folder would fill the system disk when a USB drive or
// NAS share is not mounted).
func New(root string) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("the folder %s does not exist: create it, or mount the drive or share it is on", abs)
	case err != nil:
		return nil, fmt.Errorf("folder %s: %w", abs, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is not a folder", abs)
	}
	return &Local{root: abs}, nil
}

func (l *Local) String() string { return "folder " + l.root }

// path maps an object name to a file, refusing names that leave the root.
func (l *Local) path(name string) (string, error) {
	clean := path.Clean("/" + name)
	if name == "" || clean != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return filepath.Join(l.root, filepath.FromSlash(clean[1:])), nil
}

func (l *Local) Put(ctx context.Context, name string, r io.Reader) error {
	p, err := l.path(name)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return l.explain(err)
	}
	f, err := os.CreateTemp(dir, storage.TempFilePattern(name))
	if err != nil {
		return l.explain(err)
	}
	tmp := f.Name()
	_, err = io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return l.explain(err)
	}
	syncDir(dir)
	return nil
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func (l *Local) Open(_ context.Context, name string) (io.ReadCloser, error) {
	p, err := l.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, l.explain(err)
	}
	return f, nil
}

func (l *Local) Stat(_ context.Context, name string) (storage.Info, error) {
	p, err := l.path(name)
	if err != nil {
		return storage.Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return storage.Info{}, l.explain(err)
	}
	return storage.Info{Name: name, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

func (l *Local) List(_ context.Context, prefix string) ([]storage.Info, error) {
	var out []storage.Info
	err := l.walk(prefix, false, func(_, name string, fi fs.FileInfo) error {
		out = append(out, storage.Info{Name: name, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, l.explain(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (l *Local) Delete(_ context.Context, name string) error {
	p, err := l.path(name)
	if err != nil {
		return err
	}
	return l.explain(os.Remove(p))
}

// RemoveTemp removes the temporary files under prefix that stale picks.
func (l *Local) RemoveTemp(_ context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	var out []storage.Temp
	err := l.walk(prefix, true, func(p, name string, fi fs.FileInfo) error {
		object, _ := storage.TempFileObject(name)
		t := storage.Temp{Name: name, Object: object, Modified: fi.ModTime()}
		if !stale(t) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return out, l.explain(err)
	}
	return out, nil
}

// walk calls visit with the path, the name (relative to the root, with
// slashes) and the details of every file whose name starts with prefix:
// the temporary files of unfinished writes with temps, the others without.
// What is removed meanwhile is skipped.
func (l *Local) walk(prefix string, temps bool, visit func(p, name string, fi fs.FileInfo) error) error {
	return filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != l.root && errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) != temps {
			return nil
		}
		rel, _ := filepath.Rel(l.root, p)
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		return visit(p, name, fi)
	})
}

// explain turns file system errors into what the user should do.
func (l *Local) explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %v", storage.ErrNotFound, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("the disk of %s is full: free some space or choose another storage (%w)", l.root, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("PgSafe may not write in %s: check the folder's permissions (%w)", l.root, err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s is on a read-only file system (%w)", l.root, err)
	}
	return err
}
