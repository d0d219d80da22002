package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// PartPattern names the temporary file that `decrypt --out` writes beside its
// output where the OS cannot write it unnamed (everywhere but Linux): such a
// file left by a killed decrypt holds plaintext and may be deleted.
const PartPattern = ".%s.pgsafe-part-*"

// partFile is an output file being written. On Linux it has no name until
// commit (O_TMPFILE), so a process killed mid-way leaves nothing behind;
// elsewhere it is a 0600 file named after PartPattern beside the output.
type partFile struct {
	*os.File
	path  string // the output
	named string // the temporary file's name; "" while unnamed
}

func createPart(path string) (*partFile, error) {
	if f, err := createUnnamed(filepath.Dir(path)); err == nil {
		return &partFile{File: f, path: path}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), fmt.Sprintf(PartPattern, filepath.Base(path)))
	if err != nil {
		return nil, err
	}
	return &partFile{File: f, path: path, named: f.Name()}, nil
}

// commit syncs and closes the file and gives it its name. Unnamed, it is
// linked to path without replacing anything unless replace; named, it is
// renamed over path (the caller checked beforehand that path may be used).
func (p *partFile) commit(replace bool) error {
	if err := p.Sync(); err != nil {
		return err
	}
	if p.named == "" {
		to := p.path
		if replace {
			// linkat never replaces: link to a new name, then rename that.
			tmp, err := os.CreateTemp(filepath.Dir(p.path), fmt.Sprintf(PartPattern, filepath.Base(p.path)))
			if err != nil {
				return err
			}
			tmp.Close()
			os.Remove(tmp.Name())
			to = tmp.Name()
		}
		if err := linkUnnamed(p.File, to); err != nil {
			if errors.Is(err, os.ErrExist) && !replace {
				return fmt.Errorf("%s already exists: choose another name, or --force to replace it", p.path)
			}
			return fmt.Errorf("name %s: %w", p.path, err)
		}
		if !replace {
			return p.closeOnly()
		}
		p.named = to
	}
	if err := p.closeOnly(); err != nil {
		return err
	}
	if err := os.Rename(p.named, p.path); err != nil {
		return err
	}
	p.named = ""
	return nil
}

// abort drops what was written; safe after commit (then it does nothing).
func (p *partFile) abort() {
	p.closeOnly()
	if p.named != "" {
		os.Remove(p.named)
	}
}

func (p *partFile) closeOnly() error {
	err := p.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
