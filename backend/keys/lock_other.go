//go:build !unix

package keys

import (
	"fmt"
	"os"
)

// lockHome: no cross-process lock on this platform yet; the keychain read-back
// in Open still detects a lost race.
func lockHome(home string) (unlock func(), err error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create settings directory %s: %w", home, err)
	}
	return func() {}, nil
}
