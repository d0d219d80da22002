//go:build !linux

package autostart

// TODO(macOS): a LaunchAgent, ~/Library/LaunchAgents/io.pgsafe.desktop.plist
// with ProgramArguments [exe, "app", "--hidden"] and RunAtLoad true (or
// SMAppService.mainApp on macOS 13+ for an app in /Applications).
// TODO(Windows): the registry value HKCU\Software\Microsoft\Windows\
// CurrentVersion\Run\PgSafe = "\"exe\" app --hidden".

// File is where the login item lives ("" where there is none yet).
func File() (string, error) { return "", ErrUnsupported }

// Enabled reports whether PgSafe starts at login.
func Enabled() (bool, error) { return false, nil }

// Enable makes PgSafe start at login with command.
func Enable(command []string) error { return ErrUnsupported }

// Disable stops PgSafe starting at login.
func Disable() error { return nil }
