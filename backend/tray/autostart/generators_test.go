package autostart

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Program paths a login item must carry through its own quoting.
var awkwardPaths = []string{
	"/usr/bin/pgsafe",
	"/opt/Pg Safe/pgsafe",
	`/home/a$HOME/100% sure/it's "q"/back\slash/tick` + "`/pgsafe",
	"/tmp/semi;colon/pgsafe",
	"/opt/Pg Safe $HOME 100%/pgsafe",
	"/home/ünï cødé/pgsafe",
}

func TestExecArg(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/pgsafe":     "/usr/bin/pgsafe",
		"--login":             "--login",
		"/home/a b/pgsafe":    `"/home/a b/pgsafe"`,
		`/x/$HOME/p`:          `"/x/\\$HOME/p"`, // the spec's own example: "\\$"
		`/x/back\slash`:       `"/x/back\\\\slash"`,
		`/x/"q"`:              `"/x/\\"q\\""`,
		"/x/100%":             "/x/100%%",
		"":                    `""`,
		"/tmp/it's/pgsafe":    `"/tmp/it's/pgsafe"`,
		"/tmp/back`tick`/bin": "\"/tmp/back\\\\`tick\\\\`/bin\"",
	} {
		if got := execArg(in); got != want {
			t.Errorf("execArg(%q) = %s, want %s", in, got, want)
		}
	}
}

// The entry's Exec key reads back as the command (parseExec is the
// launcher's reading; the Linux test runs the entry with GLib's launcher).
func TestEntryExecReadsBack(t *testing.T) {
	for _, exe := range awkwardPaths {
		cmd := []string{exe, "agent", "--login"}
		e := Entry(cmd)
		for _, line := range []string{"[Desktop Entry]", "Type=Application", "Name=PgSafe", "X-GNOME-Autostart-enabled=true"} {
			if !strings.Contains(e, line+"\n") {
				t.Errorf("entry lacks %q:\n%s", line, e)
			}
		}
		value, ok := entryKey(e, "Exec")
		if !ok {
			t.Fatalf("no Exec in\n%s", e)
		}
		got, err := parseExec(value)
		if err != nil || !reflect.DeepEqual(got, cmd) {
			t.Errorf("Exec=%s reads back as %q, %v; want %q", value, got, err, cmd)
		}
		if hiddenLine(e) {
			t.Errorf("a new entry is Hidden")
		}
	}
	if !hiddenLine(Entry([]string{"/p"}) + "Hidden=true\n") {
		t.Errorf("Hidden=true not seen")
	}
	if hiddenLine("[Other]\nHidden=true\n[Desktop Entry]\nExec=/p\n") {
		t.Errorf("Hidden=true of another group taken for the entry's")
	}
	// An older PgSafe's entry, as it wrote it.
	if got, _ := parseExec(`"/opt/Pg Safe/pgsafe" app --hidden`); !startsHidden(got) || got[0] != "/opt/Pg Safe/pgsafe" {
		t.Errorf("older entry read as %q", got)
	}
	if _, err := parseExec(`"/unterminated`); err == nil {
		t.Errorf("an unterminated quote read without error")
	}
}

// ExecStart= against systemd's own reading of a command line
// (systemd.service(5)): unquote and unescape, then %% everywhere and $$ in
// the arguments (login_linux_test.go has a real systemd run it).
func TestUnitExecStart(t *testing.T) {
	for _, exe := range awkwardPaths {
		cmd := []string{exe, "agent", "--login", `an "arg" with $HOME, 100% and back\slash`}
		u, err := Unit(cmd)
		if strings.ContainsAny(exe, "\"'\\") {
			// systemd refuses such a program ("Executable name contains
			// special characters"): the XDG entry is written instead.
			if err == nil {
				t.Errorf("Unit accepted the program %q, which systemd refuses", exe)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Unit(%q): %v", cmd, err)
		}
		var line string
		for _, l := range strings.Split(u, "\n") {
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				line = v
			}
		}
		got := systemdSplit(t, line)
		if !reflect.DeepEqual(got, cmd) {
			t.Errorf("ExecStart=%s reads back as %q; want %q", line, got, cmd)
		}
	}
	u, err := Unit([]string{"/usr/bin/pgsafe", "agent", "--login"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"[Unit]", "PartOf=graphical-session.target", "After=graphical-session.target",
		"[Service]", "ExecStart=/usr/bin/pgsafe agent --login", "Restart=on-failure", "RestartSec=5",
		"KillMode=mixed", "[Install]", "WantedBy=graphical-session.target",
	} {
		if !strings.Contains(u, "\n"+line+"\n") {
			t.Errorf("unit lacks %q:\n%s", line, u)
		}
	}
}

// systemdSplit reads an ExecStart= value as systemd does for the cases
// PgSafe writes (words, double quotes with \" and \\, %%, and $$ past the
// program).
func systemdSplit(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		program := len(out) == 0
		switch {
		case quoted && c == '\\':
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && c == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '$' && program:
			cur.WriteByte(c)
			in = true
		case (c == '%' || c == '$') && i+1 < len(s) && s[i+1] == c:
			i++
			cur.WriteByte(c)
			in = true
		case c == '%' || c == '$':
			t.Fatalf("a lone %c in %s: systemd would expand it", c, s)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// The LaunchAgent parses back (encoding/xml, as a property list) to the
// keys launchd reads.
func TestPlistReadsBack(t *testing.T) {
	for _, exe := range append(awkwardPaths, "/Applications/Pg <Safe> & Co.app/Contents/MacOS/pgsafe") {
		cmd := []string{exe, "agent", "--login"}
		logPath := "/Users/a b/Library/Application Support/PgSafe/agent.log"
		got := parsePlist(t, Plist(cmd, logPath))
		want := map[string]any{
			"Label":                       "io.pgsafe.agent",
			"ProgramArguments":            []any{exe, "agent", "--login"},
			"RunAtLoad":                   true,
			"KeepAlive":                   map[string]any{"SuccessfulExit": false},
			"ThrottleInterval":            int64(10),
			"ProcessType":                 "Interactive",
			"LimitLoadToSessionType":      "Aqua",
			"StandardErrorPath":           logPath,
			"AssociatedBundleIdentifiers": []any{"io.pgsafe.PgSafe"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("plist for %q reads back as\n%#v\nwant\n%#v", exe, got, want)
		}
	}
	if got := parsePlist(t, Plist([]string{"/p"}, "")); got["StandardErrorPath"] != nil {
		t.Errorf("no log path, yet StandardErrorPath = %v", got["StandardErrorPath"])
	}
}

// parsePlist reads an XML property list into Go values.
func parsePlist(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no <plist> in\n%s: %v", b, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "plist" {
			if v := attr(se, "version"); v != "1.0" {
				t.Fatalf("plist version %q", v)
			}
			break
		}
	}
	v, err := plistValue(d)
	if err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("the plist's root is %T, not a dict", v)
	}
	return m
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// plistValue reads the next value element.
func plistValue(d *xml.Decoder) (any, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch tk := tok.(type) {
		case xml.CharData:
			if strings.TrimSpace(string(tk)) != "" {
				return nil, fmt.Errorf("stray text %q", tk)
			}
		case xml.StartElement:
			return plistElement(d, tk)
		case xml.EndElement:
			return nil, io.EOF // the end of the enclosing array or dict
		}
	}
}

func plistElement(d *xml.Decoder, se xml.StartElement) (any, error) {
	switch se.Name.Local {
	case "string", "key", "integer":
		var s string
		if err := d.DecodeElement(&s, &se); err != nil {
			return nil, err
		}
		if se.Name.Local == "integer" {
			return strconv.ParseInt(s, 10, 64)
		}
		return s, nil
	case "true", "false":
		if err := d.Skip(); err != nil {
			return nil, err
		}
		return se.Name.Local == "true", nil
	case "array":
		out := []any{}
		for {
			v, err := plistValue(d)
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case "dict":
		out := map[string]any{}
		for {
			k, err := plistValue(d)
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			key, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("a dict key that is not a string: %v", k)
			}
			v, err := plistValue(d)
			if err != nil {
				return nil, fmt.Errorf("no value for key %s: %v", key, err)
			}
			out[key] = v
		}
	}
	return nil, fmt.Errorf("unknown plist element <%s>", se.Name.Local)
}

func TestRunValue(t *testing.T) {
	for _, c := range []struct {
		cmd  []string
		want string
	}{
		{[]string{`C:\Program Files\PgSafe\pgsafe.exe`, "agent", "--login"}, `"C:\Program Files\PgSafe\pgsafe.exe" agent --login`},
		{[]string{`C:\PgSafe\pgsafe.exe`, "agent", "--login"}, `"C:\PgSafe\pgsafe.exe" agent --login`},
		{[]string{`C:\p.exe`, "a b", `say "hi"`, `trail\`, `trail space\ `, ""}, `"C:\p.exe" "a b" "say \"hi\"" trail\ "trail space\ " ""`},
		{[]string{`C:\p.exe`, `a\\"b`}, `"C:\p.exe" "a\\\\\"b"`},
	} {
		if got := RunValue(c.cmd); got != c.want {
			t.Errorf("RunValue(%q) = %s, want %s", c.cmd, got, c.want)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	for _, bad := range [][]string{nil, {""}, {"pgsafe", "agent"}, {"/p", "a\nb"}} {
		if err := checkCommand(bad); err == nil {
			t.Errorf("checkCommand(%q) accepted", bad)
		}
	}
	for _, good := range [][]string{{"/usr/bin/pgsafe", "agent", "--login"}, {`C:\Program Files\PgSafe\pgsafe.exe`}, {`\\srv\share\pgsafe.exe`}} {
		if err := checkCommand(good); err != nil {
			t.Errorf("checkCommand(%q): %v", good, err)
		}
	}
}

func TestCommand(t *testing.T) {
	t.Setenv("APPIMAGE", "")
	cmd, err := Command()
	exe, _ := os.Executable()
	if err != nil || len(cmd) != 3 || cmd[0] != exe || cmd[1] != "agent" || cmd[2] != "--login" {
		t.Fatalf("Command() = %q, %v", cmd, err)
	}
	t.Setenv("APPIMAGE", "/home/u/PgSafe.AppImage")
	if cmd, _ := Command(); cmd[0] != "/home/u/PgSafe.AppImage" {
		t.Errorf("Command() from an AppImage = %q", cmd)
	}
}
