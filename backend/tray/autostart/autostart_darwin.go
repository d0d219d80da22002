package autostart

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/paths"
)

// On macOS the login item is a LaunchAgent in ~/Library/LaunchAgents.

// PlistFile is the LaunchAgent's file: ~/Library/LaunchAgents/io.pgsafe.agent.plist.
func PlistFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", AgentLabel+".plist"), nil
}

// Enabled reports whether PgSafe starts at login: its LaunchAgent is there.
func Enabled() (bool, error) {
	path, err := PlistFile()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Enable writes the LaunchAgent that runs command at login and loads it
// into this GUI session (`launchctl bootstrap gui/<uid>`), which runs it
// now (RunAtLoad): an agent already running stays the one, and the new one
// exits at once (0, not restarted). Its log is agent.log in the settings
// folder.
func Enable(command []string) (Item, error) {
	if err := checkCommand(command); err != nil {
		return Item{}, err
	}
	path, err := PlistFile()
	if err != nil {
		return Item{}, err
	}
	logPath := ""
	if home, err := paths.Home(); err == nil {
		logPath = filepath.Join(home, "agent.log")
	}
	if err := writeFile(path, Plist(command, logPath), 0o644); err != nil {
		return Item{}, fmt.Errorf("writing the LaunchAgent: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := launchctl(ctx, "print", guiDomain()+"/"+AgentLabel); err == nil {
		// Loaded already (enabled before in this session): launchd reads
		// the new file at the next login; booting the old one out now
		// would stop a running agent.
		return Item{Kind: LaunchAgent, Where: path}, nil
	}
	if _, err := launchctl(ctx, "bootstrap", guiDomain(), path); err != nil {
		os.Remove(path)
		return Item{}, fmt.Errorf("loading the LaunchAgent: %w", err)
	}
	return Item{Kind: LaunchAgent, Where: path}, nil
}

// Disable removes the LaunchAgent: launchd does not load it at the next
// login. It is not booted out of this session, which would stop the agent
// running now (and close the window with it); until logout launchd still
// restarts that agent if it crashes.
func Disable() error {
	path, err := PlistFile()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the LaunchAgent: %w", err)
	}
	return nil
}

// Migrate does nothing on macOS: no older PgSafe wrote a login item here.
func Migrate() (bool, error) { return false, nil }

func guiDomain() string { return "gui/" + strconv.Itoa(os.Getuid()) }

func launchctl(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "/bin/launchctl", args...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		if text != "" {
			err = fmt.Errorf("%w: %s", err, text)
		}
		return text, fmt.Errorf("launchctl %s: %w", strings.Join(args, " "), err)
	}
	return text, nil
}
