package autostart

import (
	"bytes"
	"encoding/xml"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
)

// The macOS LaunchAgent: pure, so tested on any OS.

// AgentLabel is the LaunchAgent's label, and its file's name without
// ".plist".
const AgentLabel = "io.pgsafe.agent"

// Plist is the LaunchAgent (launchd.plist(5)) that runs command in the
// user's GUI session at login:
//
//   - RunAtLoad: launchd starts it when it loads the agent, at login (and
//     when Enable bootstraps it).
//   - KeepAlive {SuccessfulExit false}: launchd starts it again after it
//     exits with an error or dies of a signal (a crash, kill -9); Quit in
//     the tray and `pgsafe agent stop` exit 0 and are not restarted. launchd
//     waits ThrottleInterval between two starts.
//   - ProcessType Interactive: the agent shows the menu bar icon and runs
//     backups; it is not throttled as a background job would be.
//   - LimitLoadToSessionType Aqua: only in a graphical login, not in an ssh
//     session of the same user.
//   - StandardErrorPath: its log (logPath, "" for none), where a face that
//     starts the agent also appends it.
//   - AssociatedBundleIdentifiers: the app it belongs to (macOS 13+ shows
//     it as PgSafe in System Settings > Login Items, not as a bare program).
func Plist(command []string, logPath string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	key := func(k string) { b.WriteString("\t<key>" + k + "</key>\n") }
	str := func(indent, s string) {
		b.WriteString(indent + "<string>")
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>\n")
	}
	key("Label")
	str("\t", AgentLabel)
	key("ProgramArguments")
	b.WriteString("\t<array>\n")
	for _, a := range command {
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	key("RunAtLoad")
	b.WriteString("\t<true/>\n")
	key("KeepAlive")
	b.WriteString("\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n")
	key("ThrottleInterval")
	b.WriteString("\t<integer>10</integer>\n")
	key("ProcessType")
	str("\t", "Interactive")
	key("LimitLoadToSessionType")
	str("\t", "Aqua")
	if logPath != "" {
		key("StandardErrorPath")
		str("\t", logPath)
	}
	key("AssociatedBundleIdentifiers")
	b.WriteString("\t<array>\n")
	str("\t\t", macapp.BundleID)
	b.WriteString("\t</array>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes()
}
