// Package paths locates PgSafe's settings directory: PGSAFE_HOME when set,
// otherwise the OS user config directory + "/PgSafe". The directory is created
// with mode 0700 because it holds the encrypted settings database and logs.
package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvHome names the environment variable that overrides the settings directory.
const EnvHome = "PGSAFE_HOME"

// Home returns the settings directory without creating it.
func Home() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locate the user config directory (set %s to choose one): %w", EnvHome, err)
	}
	return filepath.Join(cfg, "PgSafe"), nil
}

// EnsureHome returns the settings directory, creating it 0700 if missing and
// tightening its mode if it exists with wider permissions.
func EnsureHome() (string, error) {
	dir, err := Home()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create settings directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("settings directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("settings directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("restrict settings directory %s to its owner: %w", dir, err)
		}
	}
	return dir, nil
}
