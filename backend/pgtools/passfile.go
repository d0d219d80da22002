package pgtools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// passSecret hands a password to one client program run through libpq's
// PGPASSFILE, so it is never on the program's command line or in its
// environment. On Linux the passfile is an anonymous memory file (memfd) the
// program inherits: it has no name in any file system and is gone when the
// last process holding it ends, however it ends. Elsewhere it is a file in a
// private directory of the temporary folder, named after this process, removed
// when the program ends, and swept by RemoveStalePassfiles if this process
// died first.
type passSecret struct {
	file   *os.File // the memfd (Linux), inherited by the program; nil otherwise
	path   string   // the passfile's path (not Linux)
	remove func()
}

// passfileLine is the passfile entry: it matches any host, port, database and
// user, since the passfile serves one program run.
func passfileLine(password string) (string, error) {
	if strings.ContainsAny(password, "\r\n") {
		return "", fmt.Errorf("the password contains a line break, which PostgreSQL's client programs cannot take: change it on the server and in PgSafe")
	}
	return "*:*:*:*:" + escapePassfile(password) + "\n", nil
}

// attach makes the program cmd (not yet started) able to read the passfile
// and returns the PGPASSFILE value for it ("" without a password).
func (s *passSecret) attach(cmd *exec.Cmd) string {
	if s == nil {
		return ""
	}
	if s.file != nil {
		fd := 3 + len(cmd.ExtraFiles) // ExtraFiles[i] is the child's fd 3+i
		cmd.ExtraFiles = append(cmd.ExtraFiles, s.file)
		return "/dev/fd/" + strconv.Itoa(fd)
	}
	return s.path
}

// started is called once the program has started: a memfd is now the
// program's own (it holds its copy), so this process lets go of it at once.
func (s *passSecret) started() {
	if s != nil && s.file != nil {
		s.close()
	}
}

// close drops this process's hold on the passfile (removing a file-system
// one). It may be called more than once.
func (s *passSecret) close() {
	if s != nil && s.remove != nil {
		s.remove()
	}
}

// passDirPrefix starts the private directories of passfiles on systems
// without memfd, and of every passfile written by PgSafe before it used
// memfd: "pgsafe-pass-<pid>-<random>" (older: "pgsafe-pass-<random>").
const passDirPrefix = "pgsafe-pass-"

// staleLegacyAge: a passfile directory without a process ID (an older
// PgSafe's) is removed once this old; libpq reads the passfile only when it
// connects, at the start of the program's run.
const staleLegacyAge = 10 * time.Minute

// RemoveStalePassfiles removes the passfile directories that PgSafe processes
// which have ended (killed while pg_dump ran, or an older PgSafe) left in the
// temporary folder, and returns their paths. It never touches the passfile of
// a process still running.
func RemoveStalePassfiles() []string {
	dir := os.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, passDirPrefix) {
			continue
		}
		if !stalePassDir(name, e) {
			continue
		}
		p := filepath.Join(dir, name)
		if os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

func stalePassDir(name string, e os.DirEntry) bool {
	rest := strings.TrimPrefix(name, passDirPrefix)
	if pidPart, _, ok := strings.Cut(rest, "-"); ok {
		pid, err := strconv.Atoi(pidPart)
		if err != nil || pid <= 0 {
			return false // not ours
		}
		return pid != os.Getpid() && !processAlive(pid)
	}
	info, err := e.Info()
	return err == nil && time.Since(info.ModTime()) > staleLegacyAge
}

// writePassDir writes the passfile into a new private directory of the
// temporary folder named after this process (systems without memfd).
func writePassDir(name, content string) (*passSecret, error) {
	dir, err := os.MkdirTemp("", passDirPrefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, fmt.Errorf("create a temporary passfile: %w", err)
	}
	remove := func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o700); err != nil {
		remove()
		return nil, fmt.Errorf("create a temporary passfile: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		remove()
		return nil, fmt.Errorf("write the temporary passfile: %w", err)
	}
	return &passSecret{path: path, remove: remove}, nil
}
