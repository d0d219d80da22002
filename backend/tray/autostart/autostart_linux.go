package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is the XDG autostart entry: $XDG_CONFIG_HOME/autostart/pgsafe.desktop
// (~/.config/autostart/pgsafe.desktop).
func File() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "autostart", "pgsafe.desktop"), nil
}

// Enabled reports whether PgSafe starts at login.
func Enabled() (bool, error) {
	path, err := File()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !hiddenLine(string(b)), nil
}

// Enable writes the autostart entry that runs command (see Command).
func Enable(command []string) error {
	path, err := File()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the autostart folder: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(Entry(command)), 0o644); err != nil {
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	return nil
}

// Disable removes the autostart entry (nothing to do if there is none).
func Disable() error {
	path, err := File()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the autostart entry: %w", err)
	}
	return nil
}

// Entry is the desktop entry that runs command at login.
func Entry(command []string) string {
	args := make([]string, len(command))
	for i, a := range command {
		args[i] = execArg(a)
	}
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=PgSafe\n" +
		"Comment=PostgreSQL backups, in the tray\n" +
		"Exec=" + strings.Join(args, " ") + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// execArg quotes one argument of an Exec key as the Desktop Entry
// Specification says: arguments with reserved characters go in double quotes
// with `"`, "`", `$` and `\` backslash-escaped; then, as the key is a string,
// each backslash is doubled; and a literal % is written %%.
func execArg(a string) string {
	a = strings.ReplaceAll(a, "%", "%%")
	if a != "" && !strings.ContainsAny(a, " \t\n\"'\\><~|&;$*?#()`") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range a {
		switch r {
		case '"', '`', '$':
			b.WriteString(`\\`) // a backslash, doubled for the string escape
			b.WriteRune(r)
		case '\\':
			b.WriteString(`\\\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
