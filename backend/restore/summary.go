package restore

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Note is one thing a restore's messages say, in words, with the raw
// pg_restore lines it stands for.
type Note struct {
	// Code: extension_missing, extension_denied, role_missing, owners_not_kept,
	// permission_denied, already_exists, other, more_errors, retried.
	Code string `json:"code"`
	// Severity: "warning" (something from the backup is not in the target)
	// or "info" (nothing is missing).
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
	Lines    []string `json:"lines,omitempty"`
}

var (
	errorRe        = regexp.MustCompile(`ERROR:\s+(.*)$`)
	extMissingRe   = regexp.MustCompile(`extension "([^"]+)" is not available|could not open extension control file "[^"]*/([^"/]+)\.control"`)
	extDeniedRe    = regexp.MustCompile(`permission denied to create extension "([^"]+)"`)
	extAbsentRe    = regexp.MustCompile(`extension "([^"]+)" does not exist`)
	roleMissingRe  = regexp.MustCompile(`role "([^"]+)" does not exist`)
	notMemberRe    = regexp.MustCompile(`must be (?:a )?member of role "([^"]+)"|must be able to SET ROLE "([^"]+)"`)
	permissionRe   = regexp.MustCompile(`permission denied|must be owner of|must be superuser|only superuser`)
	alreadyRe      = regexp.MustCompile(`already exists`)
	tocEntryLineRe = regexp.MustCompile(`^pg_restore: from TOC entry \d+; `)
)

// summarize says in sentences what pg_restore's problem lines (warnings,
// as pgtools.Restore keeps them: each error with the "from TOC entry" line
// before it), its count of ignored errors and the retried entries mean.
// ownersDropped: the recorded owners were not kept although asked for (no
// caller sets it since the roles check stops such a restore first; kept for
// the note's words).
func summarize(warnings []string, ignored int, retried []string, ownersDropped bool) []Note {
	type group struct {
		names []string
		lines []string
		first string
		errs  int
	}
	groups := map[string]*group{}
	var order []string
	add := func(code, name, msg string, lines []string) {
		g := groups[code]
		if g == nil {
			g = &group{first: msg}
			groups[code] = g
			order = append(order, code)
		}
		if name != "" && !slices.Contains(g.names, name) {
			g.names = append(g.names, name)
		}
		g.lines = append(g.lines, lines...)
		g.errs++
	}
	extensionGroup := func(name string) string {
		for _, code := range []string{"extension_missing", "extension_denied"} {
			if g := groups[code]; g != nil && slices.Contains(g.names, name) {
				return code
			}
		}
		return ""
	}
	errors := 0
	var entry string // the "from TOC entry" line before an error
	for _, line := range warnings {
		switch {
		case tocEntryLineRe.MatchString(line):
			entry = line
			continue
		case strings.HasPrefix(line, "pg_restore: warning: errors ignored on restore"):
			continue
		}
		lines := []string{line}
		if entry != "" {
			lines = []string{entry, line}
			entry = ""
		}
		msg := line
		if m := errorRe.FindStringSubmatch(line); m != nil {
			msg = m[1]
		} else if rest, ok := strings.CutPrefix(line, "pg_restore: error: "); ok {
			msg = rest
		} else if rest, ok := strings.CutPrefix(line, "pg_restore: warning: "); ok {
			add("other", "", rest, lines)
			continue
		}
		errors++
		switch {
		case extMissingRe.MatchString(msg):
			m := extMissingRe.FindStringSubmatch(msg)
			add("extension_missing", m[1]+m[2], msg, lines)
		case extDeniedRe.MatchString(msg):
			add("extension_denied", extDeniedRe.FindStringSubmatch(msg)[1], msg, lines)
		case extAbsentRe.MatchString(msg) && extensionGroup(extAbsentRe.FindStringSubmatch(msg)[1]) != "":
			// Its comment, after the extension itself failed: the same problem.
			g := groups[extensionGroup(extAbsentRe.FindStringSubmatch(msg)[1])]
			g.lines = append(g.lines, lines...)
		case notMemberRe.MatchString(msg):
			m := notMemberRe.FindStringSubmatch(msg)
			add("owners_not_kept", m[1]+m[2], msg, lines)
		case roleMissingRe.MatchString(msg):
			add("role_missing", roleMissingRe.FindStringSubmatch(msg)[1], msg, lines)
		case permissionRe.MatchString(msg):
			add("permission_denied", "", msg, lines)
		case alreadyRe.MatchString(msg):
			add("already_exists", "", msg, lines)
		default:
			add("other", "", msg, lines)
		}
	}

	var notes []Note
	if ownersDropped {
		notes = append(notes, Note{Code: "owners_not_kept", Severity: "info",
			Message: "Owners were not kept: the restoring role is not a superuser, so every restored object belongs to it."})
	}
	for _, code := range order {
		g := groups[code]
		n := g.errs
		note := Note{Code: code, Severity: "warning", Lines: g.lines}
		names := strings.Join(g.names, ", ")
		switch code {
		case "extension_missing":
			note.Message = fmt.Sprintf("%s could not be created: %s (not installed on the target server). Objects that use %s may be missing too.",
				count(len(g.names), "extension", "extensions"), names, them(len(g.names)))
		case "extension_denied":
			note.Message = fmt.Sprintf("%s could not be created: %s (the restoring role may not create %s; a superuser can).",
				count(len(g.names), "extension", "extensions"), names, them(len(g.names)))
		case "owners_not_kept":
			if ownersDropped {
				continue // already said
			}
			note.Message = fmt.Sprintf("Owners were not kept for %s: the restoring role is neither a superuser nor a member of %s, so it owns %s.",
				count(n, "object", "objects"), names, plural(n, "that object", "those objects"))
		case "role_missing":
			note.Message = fmt.Sprintf("%s %s not exist on the target server (%s): %s naming %s %s skipped.",
				count(len(g.names), "role", "roles"), plural(len(g.names), "does", "do"), names,
				count(n, "grant or owner change", "grants or owner changes"), them(len(g.names)), plural(n, "was", "were"))
		case "permission_denied":
			note.Message = fmt.Sprintf("%s refused for lack of privileges (the first: %s).", count(n, "statement was", "statements were"), g.first)
		case "already_exists":
			note.Message = fmt.Sprintf("%s already existed in the target and %s kept as %s (the first: %s).",
				count(n, "object", "objects"), plural(n, "was", "were"), plural(n, "it was", "they were"), g.first)
			note.Severity = "info"
		default:
			note.Message = fmt.Sprintf("%s (the first: %s).", count(n, "other problem", "other problems"), g.first)
		}
		notes = append(notes, note)
	}
	if ignored > errors {
		notes = append(notes, Note{Code: "more_errors", Severity: "warning",
			Message: fmt.Sprintf("pg_restore counted %s; only the first are listed.", count(ignored, "error", "errors"))})
	}
	if len(retried) > 0 {
		notes = append(notes, Note{Code: "retried", Severity: "info", Lines: retried,
			Message: fmt.Sprintf("%s lost to a deadlock between the parallel jobs %s restored again one at a time: nothing is missing.",
				count(len(retried), "item", "items"), plural(len(retried), "was", "were"))})
	}
	return notes
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func them(n int) string { return plural(n, "it", "them") }
