package notify

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// fact is one "name: value" line of a message.
type fact struct{ name, value string }

// facts are the event's details in display order: the database, the fields
// sorted by name, then the time.
func facts(ev Event) []fact {
	var out []fact
	if ev.Database != "" {
		out = append(out, fact{"Database", ev.Database})
	}
	for _, k := range slices.Sorted(maps.Keys(ev.Fields)) {
		out = append(out, fact{k, ev.Fields[k]})
	}
	return append(out, fact{"Time", ev.At.Format(timeLayout)})
}

const timeLayout = "2006-01-02 15:04:05 MST"

// plainText is the event as plain text: title, body, facts.
func plainText(ev Event) string {
	var b strings.Builder
	b.WriteString(ev.Title)
	b.WriteString("\n")
	if ev.Body != "" {
		b.WriteString("\n")
		b.WriteString(strings.TrimRight(ev.Body, "\n"))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, f := range facts(ev) {
		b.WriteString(f.name + ": " + f.value + "\n")
	}
	return b.String()
}

// truncate cuts s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine replaces line breaks and tabs with spaces (subjects, headers).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
