// Package autostart starts PgSafe's agent (`pgsafe agent --login`) when the
// user logs in, natively on each OS, and undoes it:
//
//   - Linux, in a desktop session run by systemd (graphical-session.target
//     is active): a systemd user service, ~/.config/systemd/user/
//     pgsafe-agent.service, enabled for graphical-session.target and
//     restarted by systemd after a crash (Restart=on-failure). Elsewhere an
//     XDG autostart entry, ~/.config/autostart/pgsafe.desktop.
//   - macOS: a LaunchAgent, ~/Library/LaunchAgents/io.pgsafe.agent.plist
//     (RunAtLoad; KeepAlive restarts it after a crash, not after Quit).
//   - Windows: the value "PgSafe" of HKCU\Software\Microsoft\Windows\
//     CurrentVersion\Run.
//
// The login item itself is the setting: there is no copy of it elsewhere.
// docs/AUTOSTART.md says what is written where and how to undo it by hand.
// The generators (Unit, Entry, Plist, RunValue) are pure and tested on any
// OS; the per-OS files write and remove the items.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
)

// ErrUnsupported is returned where starting at login is not implemented.
var ErrUnsupported = errors.New("starting PgSafe at login is not supported on this system")

// Kind says which native mechanism starts PgSafe at login.
type Kind string

const (
	Systemd     Kind = "systemd user service"
	XDG         Kind = "XDG autostart entry"
	LaunchAgent Kind = "LaunchAgent"
	RunKey      Kind = "Run registry value"
)

// Item is the login item Enable wrote.
type Item struct {
	Kind Kind
	// Where is its file, or its registry value.
	Where string
	// Why this kind (Linux): the session is run by systemd, or why not, or
	// why its service could not be enabled.
	Why string
}

// Command is the program and arguments that start PgSafe's agent at login:
// this executable (or, run from an AppImage, the AppImage file, since the
// running executable lives in a mount that is gone after logout; or, in
// the macOS app bundle, the agent helper app's executable, which stays out
// of the Dock; or, on Windows, the app beside pgsafe-headless.exe, which
// opens no console window: runProgram) with "agent --login".
func Command() ([]string, error) {
	exe := os.Getenv("APPIMAGE")
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
		if agent, ok := macapp.AgentFor(exe); ok {
			exe = agent
		}
		if runtime.GOOS == "windows" {
			exe = runProgram(exe)
		}
	}
	return []string{exe, "agent", "--login"}, nil
}

// checkCommand refuses a command a login item cannot hold: no program, a
// relative program path, or a control character (a newline would end the
// line of a unit or desktop entry).
func checkCommand(command []string) error {
	if len(command) == 0 || command[0] == "" {
		return errors.New("no program to start at login")
	}
	if !strings.HasPrefix(command[0], "/") && !isWindowsAbs(command[0]) {
		return fmt.Errorf("the program to start at login must be an absolute path, not %q", command[0])
	}
	for _, a := range command {
		if strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return fmt.Errorf("the command to start at login holds a control character: %q", a)
		}
	}
	return nil
}

// isWindowsAbs: C:\… or \\server\share\… (filepath.IsAbs knows only this
// OS's paths; the generators are tested everywhere).
func isWindowsAbs(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

// writeFile writes data to path through a temporary file and a rename, so a
// login never finds half an item.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
