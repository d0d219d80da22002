//go:build !linux && !darwin && !windows

package autostart

// Enabled reports whether PgSafe starts at login.
func Enabled() (bool, error) { return false, nil }

// Enable makes PgSafe start at login with command.
func Enable(command []string) (Item, error) { return Item{}, ErrUnsupported }

// Disable stops PgSafe starting at login.
func Disable() error { return nil }

// Migrate replaces an older PgSafe's login item (none here).
func Migrate() (bool, error) { return false, nil }
