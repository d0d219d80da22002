// Package macapp is the layout of PgSafe's macOS app bundle, for the code
// that finds one program from the other inside it (the window starts the
// agent, the agent opens the window, start at login names the agent) and
// for the generator that builds it (backend/internal/dist/macos):
//
//	PgSafe.app/Contents/
//	  Info.plist
//	  MacOS/pgsafe                    the window (Wails) and the command line
//	  Resources/PgSafe.icns
//	  Resources/io.pgsafe.agent.plist the LaunchAgent, as a template
//	  Library/LoginItems/PgSafe Agent.app/Contents/
//	    Info.plist                    LSUIElement: no Dock icon, no menu of its own
//	    MacOS/pgsafe-headless         the agent: schedules, menu bar icon, local API
//	    Resources/PgSafe.icns
//
// The agent is an app of its own nested in the window's, where macOS
// expects a login item's helper: a process takes the Info.plist of the
// bundle its executable is in, and the agent's must say LSUIElement (a
// menu bar icon, no Dock icon) while the window's must not. Its executable
// is the headless build (no Wails or WebKit), built with cgo on macOS for
// the menu bar icon. Nothing here depends on the OS: the paths are plain
// strings, so it is tested on Linux.
package macapp

import (
	"os"
	"path/filepath"
	"strings"
)

const (
	// Name is the app's name: the bundle is Name + ".app".
	Name = "PgSafe"
	// BundleID is the window app's CFBundleIdentifier.
	BundleID = "io.pgsafe.PgSafe"
	// Executable is the window's (and the command line's) executable in
	// Contents/MacOS.
	Executable = "pgsafe"
	// Icon is the icon file in Contents/Resources (CFBundleIconFile).
	Icon = "PgSafe.icns"

	// AgentName is the agent helper app's name; AgentBundleID its
	// CFBundleIdentifier; AgentExecutable its executable.
	AgentName       = "PgSafe Agent"
	AgentBundleID   = "io.pgsafe.PgSafe.Agent"
	AgentExecutable = "pgsafe-headless"
	// AgentDir is where the agent helper app lies in the window's bundle.
	AgentDir = "Contents/Library/LoginItems/" + AgentName + ".app"

	// WindowPath and AgentPath are the two executables' paths in the
	// bundle (slash-separated, relative to X.app).
	WindowPath = "Contents/MacOS/" + Executable
	AgentPath  = AgentDir + "/Contents/MacOS/" + AgentExecutable
)

// AgentFor returns the agent's executable for exe, the window's executable
// inside an app bundle (PgSafe.app/Contents/MacOS/pgsafe, whatever the
// bundle is called), when that bundle holds the agent helper; exe itself
// when exe is the helper's. ok is false when exe is not in such a bundle.
// A symbolic link to the executable (a `pgsafe` on the PATH) is followed.
func AgentFor(exe string) (agent string, ok bool) {
	exe = resolve(exe)
	if isAgent(exe) {
		return exe, true
	}
	if !isWindow(exe) {
		return "", false
	}
	app := filepath.Dir(filepath.Dir(filepath.Dir(exe)))
	agent = filepath.Join(app, filepath.FromSlash(AgentPath))
	if !isExecutable(agent) {
		return "", false
	}
	return agent, true
}

// WindowFor returns the window's executable for exe, the agent helper's
// executable inside the window's bundle; ok is false when exe is not that
// or the window's executable is missing.
func WindowFor(exe string) (window string, ok bool) {
	exe = resolve(exe)
	if !isAgent(exe) {
		return "", false
	}
	app := strings.TrimSuffix(exe, string(filepath.Separator)+filepath.FromSlash(AgentPath))
	window = filepath.Join(app, filepath.FromSlash(WindowPath))
	if !isExecutable(window) {
		return "", false
	}
	return window, true
}

// isWindow: …/X.app/Contents/MacOS/pgsafe.
func isWindow(exe string) bool {
	macos := filepath.Dir(exe)
	contents := filepath.Dir(macos)
	return filepath.Base(exe) == Executable && filepath.Base(macos) == "MacOS" &&
		filepath.Base(contents) == "Contents" && strings.HasSuffix(filepath.Dir(contents), ".app")
}

// isAgent: …/X.app/Contents/Library/LoginItems/PgSafe Agent.app/Contents/MacOS/pgsafe-headless.
func isAgent(exe string) bool {
	rest, found := strings.CutSuffix(exe, string(filepath.Separator)+filepath.FromSlash(AgentPath))
	return found && strings.HasSuffix(rest, ".app")
}

func resolve(exe string) string {
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		return r
	}
	return exe
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
