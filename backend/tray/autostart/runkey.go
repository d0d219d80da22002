package autostart

import (
	"os"
	"strings"
)

// The Windows Run value: pure, so tested on any OS.

// RunValueName is the name of PgSafe's value under HKCU\Software\Microsoft\
// Windows\CurrentVersion\Run.
const RunValueName = "PgSafe"

// RunValue is the command line Windows runs at login for command: the
// program always in double quotes (an install path holds spaces: "C:\Program
// Files\…"; Windows paths cannot hold a quote, and the program name is read
// up to the next quote with no escapes), then each argument quoted as
// CommandLineToArgvW reads it back.
func RunValue(command []string) string {
	if len(command) == 0 {
		return ""
	}
	parts := []string{`"` + command[0] + `"`}
	for _, a := range command[1:] {
		parts = append(parts, windowsArg(a))
	}
	return strings.Join(parts, " ")
}

// windowsArg quotes one argument for CommandLineToArgvW (the rules of
// syscall.EscapeArg, which exists only on Windows): in quotes when it holds
// a blank or a quote or is empty; backslashes before a quote, and before the
// closing quote, are doubled; a quote is backslash-escaped.
func windowsArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// runProgram is the program the Run value starts for the agent's executable
// exe. On Windows the agent mostly runs as pgsafe-headless.exe (the window
// starts that sibling), a console program: started at login, Windows would
// show it a console window for as long as it runs, and closing that window
// would stop it. The app beside it, pgsafe.exe, a GUI program, runs the
// same `agent --login` without one. Without that sibling: exe. Pure but for
// the file's existence, so tested on any OS (Windows paths included).
func runProgram(exe string) string {
	cut := strings.LastIndexAny(exe, `\/`) + 1
	dir, name := exe[:cut], exe[cut:]
	const suffix = "-headless.exe"
	if len(name) <= len(suffix) || !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return exe
	}
	app := dir + name[:len(name)-len(suffix)] + name[len(name)-len(".exe"):]
	if fi, err := os.Stat(app); err == nil && fi.Mode().IsRegular() {
		return app
	}
	return exe
}
