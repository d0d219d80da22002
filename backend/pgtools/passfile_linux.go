package pgtools

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// newPassSecret puts the password into an anonymous memory file (memfd),
// readable by this user only and sealed against change. The program inherits
// it and libpq opens it as /dev/fd/N: a regular file of mode 0600, as libpq
// requires of a passfile, that no other process can find by name and that no
// kill leaves behind. nil without a password.
func newPassSecret(password string) (*passSecret, error) {
	if password == "" {
		return nil, nil
	}
	line, err := passfileLine(password)
	if err != nil {
		return nil, err
	}
	return newSecretFile("pgsafe-pgpass", line)
}

// newSecretFile puts content into an anonymous memory file (memfd) as
// newPassSecret does; name only labels it (in /proc/PID/fd).
func newSecretFile(name, content string) (*passSecret, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		// A kernel before 3.17, or a sandbox that forbids memfd: a private
		// file named after this process (swept if it dies).
		return writePassDir(name, content)
	}
	if err != nil {
		return nil, fmt.Errorf("create an in-memory passfile: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	var once sync.Once
	remove := func() { once.Do(func() { f.Close() }) }
	if err := f.Chmod(0o600); err != nil {
		remove()
		return nil, fmt.Errorf("create an in-memory passfile: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		remove()
		return nil, fmt.Errorf("write the in-memory passfile: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		remove()
		return nil, fmt.Errorf("seal the in-memory passfile: %w", err)
	}
	return &passSecret{file: f, remove: remove}, nil
}
