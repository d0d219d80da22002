package autostart

import (
	"errors"
	"strings"
)

// The XDG autostart entry (Desktop Entry Specification 1.5): written where
// the session is not run by systemd. Pure, so tested on any OS.

// Entry is the desktop entry that runs command at login.
func Entry(command []string) string {
	args := make([]string, len(command))
	for i, a := range command {
		args[i] = execArg(a)
	}
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=PgSafe\n" +
		"Comment=PostgreSQL backups: the agent that runs the schedules and shows the tray icon\n" +
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

// entryKey is the value of key in the [Desktop Entry] group ("" and false
// when absent).
func entryKey(entry, key string) (string, bool) {
	group := ""
	for _, l := range strings.Split(entry, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			group = l
			continue
		}
		if group != "[Desktop Entry]" {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// hiddenLine reports whether a desktop entry says Hidden=true (the user or
// a desktop's settings switched it off without deleting it).
func hiddenLine(entry string) bool {
	v, _ := entryKey(entry, "Hidden")
	return v == "true"
}

// parseExec splits an Exec value into the program and its arguments, as a
// launcher does: the string escapes first, then the quoting, then %% (other
// field codes, which PgSafe never writes, are dropped).
func parseExec(value string) ([]string, error) {
	// The string escapes of the specification: \s \n \t \r \\.
	var s strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '\\' || i+1 == len(value) {
			s.WriteByte(c)
			continue
		}
		i++
		switch value[i] {
		case 's':
			s.WriteByte(' ')
		case 'n':
			s.WriteByte('\n')
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		default: // \\ and anything else: the character itself
			s.WriteByte(value[i])
		}
	}
	var args []string
	var cur strings.Builder
	in, quoted := false, false
	str := s.String()
	for i := 0; i < len(str); i++ {
		c := str[i]
		switch {
		case quoted && c == '\\' && i+1 < len(str) && strings.IndexByte("\"`$\\", str[i+1]) >= 0:
			i++
			cur.WriteByte(str[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		case c == '%' && i+1 < len(str):
			i++
			if str[i] == '%' {
				cur.WriteByte('%')
			}
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, errors.New("an unterminated quote in the Exec key")
	}
	if in {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("an empty Exec key")
	}
	return args, nil
}

// startsHidden: the command of an older login item, `pgsafe app --hidden`
// (or `pgsafe --hidden`).
func startsHidden(args []string) bool {
	for _, a := range args[1:] {
		if a == "--hidden" || a == "-hidden" {
			return true
		}
	}
	return false
}
