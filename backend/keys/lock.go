package keys

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgsafe/pgsafe/backend/internal/filelock"
)

// lockHome takes an exclusive lock on <home>/keys.lock, so that two PgSafe
// processes starting for the first time at once (the app and `pgsafe run`)
// cannot both create a master key, one of them then encrypting with a key
// the keychain no longer has.
func lockHome(home string) (unlock func(), err error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create settings directory %s: %w", home, err)
	}
	f, err := os.OpenFile(filepath.Join(home, "keys.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock keys: %w", err)
	}
	if err := filelock.Lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock keys: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}
