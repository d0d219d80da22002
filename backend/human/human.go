// Package human writes sizes and durations the way the window and the
// command line say them to people: "34.8 MB", "2 h 30 min", never Go's
// "1m0s". The frontend's format.ts follows the same rules. It also finds
// the part of a recorded error that is for support rather than people.
package human

import (
	"fmt"
	"math"
	"strings"
	"time"
)

var byteUnits = []string{"kB", "MB", "GB", "TB", "PB", "EB"}

// Bytes is n in decimal units, as file managers show: 999 → "999 B",
// 1234567 → "1.2 MB", 123456789 → "123 MB".
func Bytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", max(n, 0))
	}
	v := float64(n)
	i := -1
	for v >= 1000 && i < len(byteUnits)-1 {
		v /= 1000
		i++
	}
	if v >= 100 {
		return fmt.Sprintf("%d %s", int64(math.Round(v)), byteUnits[i])
	}
	// 99.96 rounds to "100.0": say it in the unit the next step would.
	if s := fmt.Sprintf("%.1f", v); s != "100.0" {
		return s + " " + byteUnits[i]
	}
	return "100 " + byteUnits[i]
}

// Duration is d in words, to the second below an hour and to the minute
// above: 0 → "0 s", 400ms → "under 1 s", 95s → "1 min 35 s", 1m →
// "1 min", 2h30m → "2 h 30 min", 48h → "2 days", 30h → "1 day 6 h".
func Duration(d time.Duration) string {
	if d > 0 && d < time.Second {
		return "under 1 s"
	}
	s := int64(math.Round(d.Seconds()))
	if s < 0 {
		s = 0
	}
	switch m := s / 60; {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case m < 60:
		return join(m, "min", s%60, "s")
	case m < 24*60:
		return join(m/60, "h", m%60, "min")
	default:
		days, h := m/(24*60), (m/60)%24
		unit := "days"
		if days == 1 {
			unit = "day"
		}
		return join(days, unit, h, "h")
	}
}

func join(a int64, au string, b int64, bu string) string {
	if b == 0 {
		return fmt.Sprintf("%d %s", a, au)
	}
	return fmt.Sprintf("%d %s %d %s", a, au, b, bu)
}

// TrailingParen is where the parenthesized part that ends s opens, nested
// parentheses included: the server's or network's own words that errors
// carry after what they say to people ("… refused the password (FATAL: …
// (SQLSTATE 28P01))"). -1: s does not end in one.
func TrailingParen(s string) int {
	if len(s) == 0 || s[len(s)-1] != ')' {
		return -1
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// Shorten cuts s to at most max runes at a word boundary, ending it with
// "…" when cut (a menu line, a notification title).
func Shorten(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	cut := max - 1
	for i := cut; i > max/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRight(string(r[:cut]), " ,;:") + "…"
}
