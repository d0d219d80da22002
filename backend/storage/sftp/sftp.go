// Package sftp is a storage in a folder of an SFTP server, reached over SSH.
//
// The SSH login is tunnel.Dial's, so the server's host key is always checked
// (pinned, or in a known_hosts file; an unknown or changed key is a
// *tunnel.HostKeyError carrying the fingerprint to show the user).
//
// One SSH connection and SFTP session serve all operations. A long-lived
// app keeps the storage across network changes and server restarts, so the
// connection is re-established lazily: an operation that finds it dead
// redials once. SSH keepalives notice a server that silently went away.
//
// A Put is all-or-nothing like the local folder's: it streams (with many
// writes in flight, for high-latency links) into a ".pgsafe-tmp-" file in
// the object's folder, fsyncs it where the server supports
// fsync@openssh.com, then renames it over the final name with
// posix-rename@openssh.com, which replaces an older object atomically. A
// failed or cancelled Put removes its temporary file (best effort: not
// possible when the connection is gone; List never shows such files).
//
// Free space comes from statvfs@openssh.com. Errors say what to check, and
// never contain the password or key.
package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/tunnel"
)

// tmpPrefix starts temporary files; List never shows them.
const tmpPrefix = storage.TempPrefix

// Config is an SFTP server, how to log in, and the folder on it.
type Config struct {
	tunnel.Config
	// Path is the folder on the server: absolute, or relative to the folder
	// the login starts in ("" is that folder). It must exist.
	Path string
}

func (c Config) root() string {
	if c.Path == "" {
		return "."
	}
	return path.Clean(c.Path)
}

// String names the folder without secrets: "user@host:port/path", with
// "/~/path" for a path relative to the login folder.
func (c Config) String() string {
	if r := c.root(); path.IsAbs(r) {
		return c.Config.String() + r
	} else if r == "." {
		return c.Config.String() + "/~"
	} else {
		return c.Config.String() + "/~/" + r
	}
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "sftp.Config(" + c.String() + ")" }

// Format keeps every verb (%v, %+v, %d, %x, …) from printing secrets.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue keeps slog from printing secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// SFTP is a folder on an SFTP server.
type SFTP struct {
	cfg  *Config // a pointer, so that printing an SFTP never prints the secrets
	root string

	mu     sync.Mutex
	conn   *conn
	closed bool
}

// New connects to the server and checks that the folder exists: it is not
// created (a storage that silently creates its folder would fill the wrong
// disk when the server's backup disk is not mounted, or when the path has a
// typo). Close the storage when done.
func New(ctx context.Context, cfg Config) (*SFTP, error) {
	s := &SFTP{cfg: &cfg, root: cfg.root()}
	err := s.do(ctx, "open the folder", func(c *conn) error {
		fi, err := c.sftp.Stat(s.root)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return userErr("the folder %q does not exist on the SFTP server %s: create it, or mount the disk it is on", s.root, cfg.Config)
		case err != nil:
			return err
		case !fi.IsDir():
			return userErr("%q on the SFTP server %s is not a folder", s.root, cfg.Config)
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *SFTP) String() string { return "SFTP " + s.cfg.String() }

// GoString keeps %#v from printing secrets.
func (s *SFTP) GoString() string { return "sftp.SFTP(" + s.cfg.String() + ")" }

// Close closes the connection; the storage cannot be used afterwards.
func (s *SFTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	return nil
}

// path maps an object name to a path on the server, refusing names that
// leave the folder (the same rules as the local folder's).
func (s *SFTP) path(name string) (string, error) {
	clean := path.Clean("/" + name)
	if name == "" || clean != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return path.Join(s.root, name), nil
}

func (s *SFTP) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	var rc io.ReadCloser
	err = s.do(ctx, "read "+name, func(c *conn) error {
		f, err := c.sftp.Open(p)
		if err != nil {
			return err
		}
		if fi, err := f.Stat(); err != nil || fi.IsDir() {
			f.Close()
			if err == nil {
				err = fs.ErrNotExist
			}
			return err
		}
		rc = f
		return nil
	})
	return rc, err
}

func (s *SFTP) Stat(ctx context.Context, name string) (storage.Info, error) {
	p, err := s.path(name)
	if err != nil {
		return storage.Info{}, err
	}
	var info storage.Info
	err = s.do(ctx, "look at "+name, func(c *conn) error {
		fi, err := c.sftp.Stat(p)
		if err == nil && fi.IsDir() {
			err = fs.ErrNotExist
		}
		if err == nil {
			info = storage.Info{Name: name, Size: fi.Size(), Modified: fi.ModTime()}
		}
		return err
	})
	return info, err
}

func (s *SFTP) Delete(ctx context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	return s.do(ctx, "delete "+name, func(c *conn) error {
		fi, err := c.sftp.Lstat(p)
		if err == nil && fi.IsDir() {
			err = fs.ErrNotExist // a folder is not an object
		}
		if err == nil {
			err = c.sftp.Remove(p)
		}
		return err
	})
}

// List walks the folder, descending only into folders that can hold names
// starting with prefix.
func (s *SFTP) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	var out []storage.Info
	err := s.do(ctx, "list the folder", func(c *conn) error {
		out = out[:0]
		return s.walk(ctx, c, prefix, func(name string, fi fs.FileInfo) error {
			if !strings.HasPrefix(fi.Name(), tmpPrefix) && fi.Mode().IsRegular() {
				out = append(out, storage.Info{Name: name, Size: fi.Size(), Modified: fi.ModTime()})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveTemp removes the temporary files under prefix that stale picks,
// walking only the folders that can hold names starting with prefix.
func (s *SFTP) RemoveTemp(ctx context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	var out []storage.Temp
	err := s.do(ctx, "remove unfinished uploads", func(c *conn) error {
		out = out[:0]
		return s.walk(ctx, c, prefix, func(name string, fi fs.FileInfo) error {
			if !strings.HasPrefix(fi.Name(), tmpPrefix) {
				return nil
			}
			object, _ := storage.TempFileObject(name)
			t := storage.Temp{Name: name, Object: object, Modified: fi.ModTime()}
			if !stale(t) {
				return nil
			}
			if err := c.sftp.Remove(path.Join(s.root, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// walk calls visit for every entry that is not a folder and whose name
// (relative to the root) starts with prefix, descending only into folders
// that can hold such names. A folder deleted meanwhile is skipped.
func (s *SFTP) walk(ctx context.Context, c *conn, prefix string, visit func(name string, fi fs.FileInfo) error) error {
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := c.sftp.ReadDirContext(ctx, path.Join(s.root, rel))
		if err != nil {
			if rel != "" && errors.Is(err, fs.ErrNotExist) {
				return nil // deleted meanwhile
			}
			return err
		}
		for _, fi := range entries {
			name := path.Join(rel, fi.Name())
			if fi.IsDir() {
				if dir := name + "/"; strings.HasPrefix(dir, prefix) || strings.HasPrefix(prefix, dir) {
					if err := walk(name); err != nil {
						return err
					}
				}
				continue
			}
			if strings.HasPrefix(name, prefix) {
				if err := visit(name, fi); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("")
}

// Free is the space left for the login user in the folder's file system,
// from the statvfs@openssh.com extension.
func (s *SFTP) Free(ctx context.Context) (int64, error) {
	var free int64
	err := s.do(ctx, "read the free space", func(c *conn) (err error) {
		free, err = s.freeOn(c, s.root)
		return err
	})
	return free, err
}

func (s *SFTP) freeOn(c *conn, dir string) (int64, error) {
	if _, ok := c.sftp.HasExtension("statvfs@openssh.com"); !ok {
		return 0, userErr("the SFTP server %s does not tell its free space: %w", s.cfg.Config, errors.ErrUnsupported)
	}
	st, err := c.sftp.StatVFS(dir)
	if err != nil {
		return 0, err
	}
	return int64(st.Bavail * st.Frsize), nil
}
