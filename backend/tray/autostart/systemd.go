package autostart

import (
	"fmt"
	"strings"
)

// The systemd user service: written on Linux when the desktop session is
// run by systemd. Pure, so tested on any OS.

// UnitName is the systemd user service's name.
const UnitName = "pgsafe-agent.service"

// SessionTarget is the target the service is bound to: it is active while
// a graphical session runs, once the session manager has given systemd the
// session's environment (DISPLAY or WAYLAND_DISPLAY; the session bus's
// DBUS_SESSION_BUS_ADDRESS is the user manager's own), so the tray, the
// keychain and the window the tray opens all have what they need.
const SessionTarget = "graphical-session.target"

// Unit is the systemd user service that runs command in the graphical
// session and restarts it after a crash.
//
//   - PartOf/After graphical-session.target, WantedBy it: started at login
//     once the session's environment is there, stopped at logout (as desktop
//     daemons with a tray do; a headless daemon like Syncthing's own user
//     unit is WantedBy default.target instead).
//   - Restart=on-failure: a crash, a kill -9 or an exit with an error
//     restarts it after RestartSec; Quit in the tray and `pgsafe agent stop`
//     exit 0 and are not restarted. A crash loop stops after StartLimitBurst
//     starts within StartLimitIntervalSec.
//   - KillMode=mixed: a stop (logout) sends SIGTERM to the agent only, which
//     gives a backup in flight its grace period (a minute by default) before
//     pg_dump is cancelled; TimeoutStopSec leaves room for it.
func Unit(command []string) (string, error) {
	if len(command) == 0 {
		return "", fmt.Errorf("no program to start at login")
	}
	// systemd refuses a program path holding a quote or a backslash.
	if strings.ContainsAny(command[0], "\"'\\") {
		return "", fmt.Errorf("systemd cannot run a program whose path holds a quote or a backslash (%s)", command[0])
	}
	args := make([]string, len(command))
	args[0] = execStartProgram(command[0])
	for i, a := range command[1:] {
		args[i+1] = execStartArg(a)
	}
	return "# Written by PgSafe (Settings > Desktop > Start PgSafe at login), which removes it again.\n" +
		"# By hand: systemctl --user disable " + UnitName + ", then delete this file.\n" +
		"[Unit]\n" +
		"Description=PgSafe agent: scheduled PostgreSQL backups and the tray icon\n" +
		"PartOf=" + SessionTarget + "\n" +
		"After=" + SessionTarget + "\n" +
		"StartLimitIntervalSec=60\n" +
		"StartLimitBurst=4\n" +
		"\n" +
		"[Service]\n" +
		"Type=simple\n" +
		"ExecStart=" + strings.Join(args, " ") + "\n" +
		"Restart=on-failure\n" +
		"RestartSec=5\n" +
		"KillMode=mixed\n" +
		"TimeoutStopSec=120\n" +
		"\n" +
		"[Install]\n" +
		"WantedBy=" + SessionTarget + "\n", nil
}

// execStartProgram writes the program of ExecStart= (systemd.service(5),
// "Command lines"): in double quotes when it holds a blank or a ';', with
// `%` written `%%` (a specifier otherwise). Environment variables are not
// expanded in the program, so a `$` stays as it is.
func execStartProgram(p string) string {
	p = strings.ReplaceAll(p, "%", "%%")
	if strings.ContainsAny(p, " \t;") {
		return `"` + p + `"`
	}
	return p
}

// execStartArg writes one argument of ExecStart=: in double quotes with `"`
// and `\` backslash-escaped when it holds a blank, a quote, a backslash or
// a ';'; everywhere `%` is written `%%` (a specifier otherwise) and `$` `$$`
// (an environment variable otherwise).
func execStartArg(a string) string {
	a = strings.ReplaceAll(a, "%", "%%")
	a = strings.ReplaceAll(a, "$", "$$")
	if a != "" && !strings.ContainsAny(a, " \t\"'\\;") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range a {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
