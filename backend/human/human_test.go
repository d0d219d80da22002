package human

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		-5: "0 B", 0: "0 B", 999: "999 B", 1000: "1.0 kB", 1234567: "1.2 MB", 34_800_000: "34.8 MB",
		123_456_789: "123 MB", 99_960_000: "100 MB", 5_000_000_000_000: "5.0 TB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 400 * time.Millisecond: "under 1 s", 2 * time.Second: "2 s", 1600 * time.Millisecond: "2 s",
		time.Minute: "1 min", 95 * time.Second: "1 min 35 s", time.Hour: "1 h", 150 * time.Minute: "2 h 30 min",
		2*time.Hour + 30*time.Minute + 20*time.Second: "2 h 30 min", 24 * time.Hour: "1 day", 30 * time.Hour: "1 day 6 h",
		7 * 24 * time.Hour: "7 days", -time.Second: "0 s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTrailingParen(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"refused the password (FATAL: x (SQLSTATE 28P01))", 21},
		{"no parenthesis", -1},
		{"(only)", 0},
		{"unbalanced)", -1},
		{"", -1},
		{"a (b) c", -1},
	} {
		if got := TrailingParen(tc.s); got != tc.want {
			t.Errorf("TrailingParen(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestShorten(t *testing.T) {
	for in, want := range map[string]string{
		"short": "short",
		"The last backup failed: the server refused the password": "The last backup failed: the server…",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnop":              "abcdefghijklmnopqrstuvwxyzabcdefghi…",
	} {
		if got := Shorten(in, 36); got != want || len([]rune(got)) > 36 {
			t.Errorf("Shorten(%q, 36) = %q, want %q", in, got, want)
		}
	}
}
