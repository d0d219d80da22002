// Package autostart starts PgSafe when the user logs in: on Linux an XDG
// autostart entry (~/.config/autostart/pgsafe.desktop) that runs
// `pgsafe agent --login` (the agent shows the tray icon; no window). The entry itself is the setting: it is on while the
// file is there (and not marked Hidden).
package autostart

import (
	"errors"
	"os"
	"strings"
)

// ErrUnsupported is returned where starting at login is not implemented yet.
var ErrUnsupported = errors.New("starting PgSafe at login is not supported on this system yet")

// Command is the program and arguments that start PgSafe at login: this
// executable (or, run from an AppImage, the AppImage file, since the running
// executable lives in a mount that is gone after logout) with "agent --login".
func Command() ([]string, error) {
	exe := os.Getenv("APPIMAGE")
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	return []string{exe, "agent", "--login"}, nil
}

// hiddenLine reports whether a desktop entry says Hidden=true (the user or
// a desktop's settings switched it off without deleting it).
func hiddenLine(entry string) bool {
	for _, l := range strings.Split(entry, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "Hidden" {
			return strings.TrimSpace(v) == "true"
		}
	}
	return false
}
