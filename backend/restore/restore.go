package restore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Mode says what a restore may do to the target database.
type Mode string

const (
	// ModeNew creates the target database; it must not exist.
	ModeNew Mode = "new"
	// ModeReplace restores over an existing database: its objects that are in
	// the backup are dropped and re-created (--clean --if-exists).
	ModeReplace Mode = "replace"
)

// Options are a restore's choices.
type Options struct {
	Mode         Mode
	Jobs         int  // > 1: parallel restore, through a decrypted temporary file
	NoOwner      bool // objects belong to the restoring user
	NoPrivileges bool // skip GRANT/REVOKE
	// NoTablespaces puts every object in the target's default tablespace
	// (pg_restore --no-tablespaces); without it a backup that needs a
	// tablespace the target lacks is a *RolesProblem before anything is
	// written.
	NoTablespaces     bool
	ExcludeExtensions []string
	// Owners and grants are kept by default: before anything is written the
	// roles the backup names are checked on the target, and a *RolesProblem
	// says which are missing (or cannot be given objects). CreateRoles
	// creates the missing ones from the roles saved with the backup (no
	// passwords; NOLOGIN unless CreateRolesLogin), in one transaction.
	CreateRoles      bool
	CreateRolesLogin bool
	// RoleMap gives the objects and grants of a role (old name) to another
	// that exists on the target (new name).
	RoleMap map[string]string
	// OnRolesCreated, if set, is called with the roles CreateRoles created,
	// as soon as they are (a restore failing later does not remove them).
	OnRolesCreated func(roles []string)
	// TempDir is where a parallel restore decrypts the archive (in a new 0700
	// directory that is removed afterwards; RemoveStale cleans up after a
	// crash). Empty: os.TempDir().
	TempDir  string
	Progress func(Progress)
}

// Progress is a restore's progress.
type Progress struct {
	// Phase is "checking" (the target server), "verifying" (replace: the
	// whole backup is read and authenticated before anything is dropped),
	// "decrypting" (parallel: to a private temporary file), "restoring",
	// "counting" (the restored rows, compared with the backup's counts) or
	// "done".
	Phase string `json:"phase"`
	// ReadBytes is how much of the stored (encrypted) file the current read
	// of it has reached: it grows to Total while the file is read, in every
	// phase that reads it. A parallel restore reads it while decrypting, so
	// it stays at Total while pg_restore works from the decrypted copy.
	ReadBytes int64  `json:"readBytes"`
	Total     int64  `json:"total"` // the stored file's size
	Item      string `json:"item,omitempty"`
}

// RestoreResult is a finished restore.
type RestoreResult struct {
	Database      string        `json:"database"`
	Warnings      []string      `json:"warnings,omitempty"`
	IgnoredErrors int           `json:"ignoredErrors"`
	ViaTempFile   bool          `json:"viaTempFile"` // a parallel restore decrypted to disk
	Duration      time.Duration `json:"duration"`
	// NoOwner: objects belong to the restoring role rather than their
	// recorded owners (asked for).
	NoOwner bool `json:"noOwner"`
	// RolesCreated are the roles created from the roles saved with the
	// backup (Options.CreateRoles); RolesMapped the map the owners and grants
	// went through (Options.RoleMap).
	RolesCreated []string          `json:"rolesCreated,omitempty"`
	RolesMapped  map[string]string `json:"rolesMapped,omitempty"`
	// Retried are archive entries a parallel restore lost to a deadlock
	// between its own jobs and restored again one at a time (pgtools.Restore).
	Retried []string `json:"retried,omitempty"`
	// Notes say in words what pg_restore's Warnings, IgnoredErrors and
	// Retried mean, and whether the owners were kept (see summarize).
	Notes []Note `json:"notes,omitempty"`
	// Rows compares the restored database's row counts with the counts the
	// backup recorded, as a drill does.
	Rows RowCheck `json:"rows"`
	// Connection is how to reach the restored database:
	// postgres://user@host:port/db, never with a password. The engine sets
	// it (it knows the address the user knows, not a tunnel's).
	Connection string `json:"connection,omitempty"`
}

// TempPrefix starts the name of a parallel restore's temporary directory.
const TempPrefix = "pgsafe-restore-"

// Restore puts the backup of m into target (write credentials, used for this
// restore only; target.Database names the database to restore into). Before
// anything is written it checks the target server is at least the backup's
// major version, the database exists or not as the mode requires, and, for a
// parallel restore, that the temporary directory has room for the archive.
// A single-job restore streams from the storage into pg_restore with nothing
// unencrypted on disk.
func Restore(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring, pgRestore string, target pgtools.Conn, opts Options) (_ *RestoreResult, retErr error) {
	started := time.Now()
	if pgRestore == "" {
		return nil, errNoClient
	}
	meter := newMeter(m.StoredSize, opts.Progress)
	globalsSrc := src
	src = meteredSource{src, meter}
	meter.setPhase("checking")
	srv, err := connectServer(ctx, target, "postgres")
	if err != nil {
		return nil, err
	}
	defer srv.close()
	if err := srv.checkMajor(m.ServerMajor); err != nil {
		return nil, err
	}
	exists, err := srv.exists(ctx, target.Database)
	if err != nil {
		return nil, err
	}
	noOwner := opts.NoOwner
	switch opts.Mode {
	case ModeNew:
		if exists {
			return nil, fmt.Errorf("database %q already exists on the target server: choose a new name, or replace it", target.Database)
		}
	case ModeReplace:
		if !exists {
			return nil, fmt.Errorf("database %q does not exist on the target server, so there is nothing to replace: restore it as a new database", target.Database)
		}
	default:
		return nil, fmt.Errorf("restore: unknown mode %q", opts.Mode)
	}
	viaFile := opts.Jobs > 1 || len(opts.ExcludeExtensions) > 0
	var tmp string
	// Replacing drops objects as it goes: a backup found damaged halfway would
	// leave the database neither old nor new. So the whole file is read and
	// authenticated before anything is dropped, and the restore then reads
	// what was checked, never the storage a second time (a storage could serve
	// a good copy to the check and a cut or altered one to the restore).
	checkFirst := opts.Mode == ModeReplace && !viaFile
	if viaFile || checkFirst {
		size, purpose := m.RawSize, "a parallel restore decrypts the %s archive to %s first, which has only %s free: free some space, set another temporary directory, or restore with one job (streamed, nothing on disk)"
		if checkFirst {
			size, purpose = m.StoredSize, "replacing a database first checks a local copy of the %s encrypted backup in %s, which has only %s free: free some space or set another temporary directory"
		}
		if tmp, err = makeTempDir(opts.TempDir, size, purpose); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
	}
	if checkFirst {
		meter.setPhase("verifying")
		local, err := checkedCopy(ctx, src, m, kr, filepath.Join(tmp, "backup.pgsafe"))
		if err != nil {
			return nil, fmt.Errorf("nothing was changed in %q: %w", target.Database, err)
		}
		src = meteredSource{local, meter}
	}
	// A parallel restore decrypts first: the whole backup is read and
	// authenticated once, before anything is created or dropped, and the
	// roles check and pg_restore read only that copy.
	var file string
	plain := func(ctx context.Context) (io.ReadCloser, error) { return openArchive(ctx, src, m, kr) }
	if viaFile {
		phase := "decrypting"
		if opts.Mode == ModeReplace {
			phase = "verifying"
		}
		meter.setPhase(phase)
		a, err := openArchive(ctx, src, m, kr)
		if err != nil {
			return nil, err
		}
		file = filepath.Join(tmp, "archive.dump")
		err = decryptTo(file, a, a)
		a.Close()
		if err != nil {
			if opts.Mode == ModeReplace {
				return nil, fmt.Errorf("nothing was changed in %q: %w", target.Database, err)
			}
			return nil, err
		}
		plain = func(context.Context) (io.ReadCloser, error) { return os.Open(file) }
	}
	plan, err := planRoles(ctx, srv, plain, globalsSrc, m, kr, pgRestore, opts)
	if err != nil {
		return nil, err
	}
	if len(plan.create) > 0 {
		if err := srv.createRoles(ctx, plan, opts.CreateRolesLogin); err != nil {
			return nil, err
		}
		if opts.OnRolesCreated != nil {
			opts.OnRolesCreated(plan.create)
		}
	}
	if opts.Mode == ModeNew {
		if err := srv.create(ctx, target.Database); err != nil {
			return nil, err
		}
		// A database this restore created and could not fill is dropped again,
		// so a retry starts clean and nothing half-restored looks usable.
		defer func() {
			if retErr != nil {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if derr := srv.drop(dctx, target.Database); derr == nil {
					retErr = fmt.Errorf("%w (the new database %q was dropped again)", retErr, target.Database)
				}
			}
		}()
	}
	c := target
	c.AllowWrite = true
	ropts := pgtools.RestoreOptions{NoOwner: noOwner || plan.mapped, NoPrivileges: opts.NoPrivileges || plan.mapped, NoTablespaces: opts.NoTablespaces, Clean: opts.Mode == ModeReplace,
		Jobs: opts.Jobs, ExcludeExtensions: opts.ExcludeExtensions,
		OnItem: meter.setItem}
	if plan.mapped {
		ropts.SkipDescs, ropts.TOC = []string{"POLICY"}, plan.toc
	}
	var rr *pgtools.RestoreResult
	meter.setPhase("restoring")
	if viaFile {
		rr, err = pgtools.Restore(ctx, pgRestore, c, nil, file, ropts)
	} else {
		var a *archive
		if a, err = openArchive(ctx, src, m, kr); err != nil {
			return nil, err
		}
		defer a.Close()
		err = feed(a, func(r io.Reader) error {
			var err error
			rr, err = pgtools.Restore(ctx, pgRestore, c, r, "", ropts)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("restore into %q: %w", target.Database, err)
	}
	res := &RestoreResult{Database: target.Database, Warnings: rr.Warnings, IgnoredErrors: rr.IgnoredErrors,
		Retried: rr.Retried, ViaTempFile: viaFile, NoOwner: noOwner, RolesCreated: plan.create}
	if plan.mapped {
		meter.setPhase("owners")
		if _, err := applyOwnersAndGrants(ctx, srv.to(target.Database), plan.schema, opts.RoleMap, noOwner, opts.NoPrivileges); err != nil {
			return nil, fmt.Errorf("restore into %q: %w", target.Database, err)
		}
		res.RolesMapped = opts.RoleMap
	}
	res.Notes = summarize(rr.Warnings, rr.IgnoredErrors, rr.Retried, false)
	meter.setPhase("counting")
	res.Rows = checkRows(ctx, c, m)
	meter.setPhase("done")
	res.Duration = time.Since(started)
	return res, nil
}

// checkedCopy reads the stored backup once, writing its encrypted bytes to
// file (0600, in a private directory) while every chunk is authenticated and
// size and SHA-256 are compared with the manifest. It returns a Source that
// serves that local copy: what was checked is what gets restored.
func checkedCopy(ctx context.Context, src Source, m *backup.Manifest, kr keys.Keyring, file string) (Source, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("local copy of the backup: %w", err)
	}
	defer f.Close()
	a, err := openArchive(ctx, teeSource{src: src, w: f}, m, kr)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if _, err := io.Copy(io.Discard, a); err != nil {
		return nil, err
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("local copy of the backup: %w", err)
	}
	return fileSource{name: m.Object, path: file}, nil
}

// teeSource copies every byte read from src's object to w.
type teeSource struct {
	src Source
	w   io.Writer
}

func (t teeSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	body, err := t.src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.TeeReader(body, writerFunc(func(p []byte) (int, error) {
		if _, err := t.w.Write(p); err != nil {
			return 0, fmt.Errorf("local copy of the backup: %w", err)
		}
		return len(p), nil
	})), body}, nil
}

// fileSource serves one object from a local file.
type fileSource struct{ name, path string }

func (f fileSource) Open(_ context.Context, name string) (io.ReadCloser, error) {
	if name != f.name {
		return nil, fmt.Errorf("%s is not the checked copy of %s", name, f.name)
	}
	return os.Open(f.path)
}

// makeTempDir makes a private directory for size bytes, after checking
// there is room for them; full is the message when there is not (a format
// taking the size, the parent and the free space).
func makeTempDir(parent string, size int64, full string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("temporary directory for the restore: %w", err)
	}
	if free, ok := freeSpace(parent); ok && free < size+size/20+64<<20 {
		return "", fmt.Errorf(full, human(size), parent, human(free))
	}
	dir, err := os.MkdirTemp(parent, TempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("temporary directory for the restore: %w", err)
	}
	return dir, os.Chmod(dir, 0o700)
}

// decryptTo writes the plain archive to file (0600) and then checks the
// stored file's size and hash.
func decryptTo(file string, r io.Reader, a *archive) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("decrypt the backup to %s: %w", file, err)
	}
	return a.check()
}

// RemoveStale removes the temporary directories of parallel restores that
// did not clean up (the app died); call it at startup.
func RemoveStale(parent string) (removed []string) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), TempPrefix) {
			p := filepath.Join(parent, e.Name())
			if os.RemoveAll(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
