package autostart

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// On Linux the login item is a systemd user service when the desktop
// session is run by systemd, else an XDG autostart entry; never both.

// Enabled reports whether PgSafe starts at login: its systemd user service
// is enabled, or its XDG autostart entry is there and not switched off.
func Enabled() (bool, error) {
	l, err := linuxSystem()
	if err != nil {
		return false, err
	}
	return l.enabled()
}

// Enable makes PgSafe run command at login (see Command): a systemd user
// service if this session is run by systemd, else an XDG autostart entry.
// The other kind, if PgSafe wrote one before, is removed.
func Enable(command []string) (Item, error) {
	l, err := linuxSystem()
	if err != nil {
		return Item{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return l.enable(ctx, command)
}

// Disable stops PgSafe starting at login: it disables and removes the
// systemd user service and removes the XDG autostart entry (nothing to do
// for either if it is not there). An agent running now goes on.
func Disable() error {
	l, err := linuxSystem()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return l.disable(ctx)
}

// Migrate replaces the XDG autostart entry of an older PgSafe, which ran
// `pgsafe app --hidden` (the whole app, hidden), with today's login item for
// the same program, and reports whether it did. An entry switched off
// (Hidden=true) is left as the user set it.
func Migrate() (bool, error) {
	l, err := linuxSystem()
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return l.migrate(ctx)
}

// linuxLogin is start at login on Linux for the user config directory
// configDir ($XDG_CONFIG_HOME, ~/.config), which holds both the autostart
// entries and the user's systemd units.
type linuxLogin struct {
	configDir string
	// systemctl runs `systemctl --user args…` and returns its output.
	systemctl func(ctx context.Context, args ...string) (string, error)
}

func linuxSystem() (*linuxLogin, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return nil, fmt.Errorf("cannot find the user's config folder: %w", err)
	}
	return &linuxLogin{configDir: dir, systemctl: systemctlUser}, nil
}

// systemctlUser runs `systemctl --user` (the manager of $XDG_RUNTIME_DIR).
func systemctlUser(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "systemctl", append([]string{"--user", "--no-pager"}, args...)...)
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		if text != "" {
			err = fmt.Errorf("%w: %s", err, text)
		}
		return text, fmt.Errorf("systemctl --user %s: %w", strings.Join(args, " "), err)
	}
	return text, nil
}

func (l *linuxLogin) desktopFile() string {
	return filepath.Join(l.configDir, "autostart", "pgsafe.desktop")
}

func (l *linuxLogin) unitFile() string {
	return filepath.Join(l.configDir, "systemd", "user", UnitName)
}

// wantsLink is the symlink `systemctl enable` makes for WantedBy=.
func (l *linuxLogin) wantsLink() string {
	return filepath.Join(l.configDir, "systemd", "user", SessionTarget+".wants", UnitName)
}

// systemdSession reports whether this desktop session is run by systemd:
// its user manager answers and graphical-session.target is active (GNOME
// and KDE Plasma start it and give it the session's environment; XFCE,
// MATE, Cinnamon or a bare window manager usually do not, and a service
// bound to it would never start there). Else it says why not.
func (l *linuxLogin) systemdSession(ctx context.Context) (bool, string) {
	out, err := l.systemctl(ctx, "is-active", SessionTarget)
	if out == "active" {
		return true, ""
	}
	if errors.Is(err, exec.ErrNotFound) {
		return false, "systemd is not installed"
	}
	if out == "inactive" || out == "failed" {
		return false, SessionTarget + " is not active in this session"
	}
	return false, fmt.Sprintf("the systemd user manager did not answer (%v)", err)
}

func (l *linuxLogin) enabled() (bool, error) {
	if exists(l.unitFile()) && exists(l.wantsLink()) {
		return true, nil
	}
	b, err := os.ReadFile(l.desktopFile())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the autostart entry: %w", err)
	}
	return !hiddenLine(string(b)), nil
}

func (l *linuxLogin) enable(ctx context.Context, command []string) (Item, error) {
	if err := checkCommand(command); err != nil {
		return Item{}, err
	}
	ok, why := l.systemdSession(ctx)
	if ok {
		err := l.enableSystemd(ctx, command)
		if err == nil {
			if err := removeIfExists(l.desktopFile()); err != nil {
				return Item{}, fmt.Errorf("removing the autostart entry beside the systemd service: %w", err)
			}
			return Item{Kind: Systemd, Where: l.unitFile(), Why: "this desktop session is run by systemd"}, nil
		}
		why = "the systemd user service could not be enabled: " + err.Error()
	}
	// No service beside the entry (one left from a systemd session, or
	// half-enabled just now).
	if err := l.disableSystemd(ctx); err != nil {
		return Item{}, err
	}
	if err := writeFile(l.desktopFile(), []byte(Entry(command)), 0o644); err != nil {
		return Item{}, fmt.Errorf("writing the autostart entry: %w", err)
	}
	return Item{Kind: XDG, Where: l.desktopFile(), Why: why}, nil
}

// enableSystemd writes the unit, has the manager read it and enables it
// for the session (it starts at the next login, not now: an agent already
// runs while a window is open).
func (l *linuxLogin) enableSystemd(ctx context.Context, command []string) error {
	unit, err := Unit(command)
	if err != nil {
		return err
	}
	if err := writeFile(l.unitFile(), []byte(unit), 0o644); err != nil {
		return fmt.Errorf("writing the systemd user service: %w", err)
	}
	if _, err := l.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	if _, err := l.systemctl(ctx, "enable", UnitName); err != nil {
		return err
	}
	if !exists(l.wantsLink()) {
		return fmt.Errorf("systemctl --user enable %s made no link %s", UnitName, l.wantsLink())
	}
	return nil
}

// disableSystemd disables and removes the unit if there is one. Without a
// reachable manager the link and the file are removed by hand, which is
// what `systemctl disable` does to a unit of the user's config folder.
func (l *linuxLogin) disableSystemd(ctx context.Context) error {
	if !exists(l.unitFile()) && !exists(l.wantsLink()) {
		return nil
	}
	_, disableErr := l.systemctl(ctx, "disable", UnitName)
	if err := removeIfExists(l.wantsLink()); err != nil {
		return fmt.Errorf("disabling the systemd user service: %w", err)
	}
	if err := removeIfExists(l.unitFile()); err != nil {
		return fmt.Errorf("removing the systemd user service: %w", err)
	}
	if disableErr == nil {
		// The manager forgets the file (a running agent goes on).
		l.systemctl(ctx, "daemon-reload")
	}
	return nil
}

func (l *linuxLogin) disable(ctx context.Context) error {
	if err := l.disableSystemd(ctx); err != nil {
		return err
	}
	if err := removeIfExists(l.desktopFile()); err != nil {
		return fmt.Errorf("removing the autostart entry: %w", err)
	}
	return nil
}

func (l *linuxLogin) migrate(ctx context.Context) (bool, error) {
	b, err := os.ReadFile(l.desktopFile())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the autostart entry: %w", err)
	}
	if hiddenLine(string(b)) {
		return false, nil
	}
	value, _ := entryKey(string(b), "Exec")
	args, err := parseExec(value)
	if err != nil || !startsHidden(args) {
		return false, nil // not an old entry (or not one PgSafe can read)
	}
	command := []string{args[0], "agent", "--login"}
	if !filepath.IsAbs(args[0]) || !exists(args[0]) {
		// The program it named is gone (moved, reinstalled): this one.
		if command, err = Command(); err != nil {
			return false, err
		}
	}
	if _, err := l.enable(ctx, command); err != nil {
		return false, fmt.Errorf("replacing the autostart entry of an older PgSafe: %w", err)
	}
	return true, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
