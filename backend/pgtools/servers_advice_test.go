package pgtools

import (
	"strings"
	"testing"
)

// Each OS's advice names its packages, and none is a command to type (the
// window shows it).
func TestServerInstallAdvice(t *testing.T) {
	for goos, want := range map[string][]string{
		"linux":   {"postgresql-16", "postgresql-server"},
		"darwin":  {"postgresql@16", "Postgres.app"},
		"windows": {"EDB installer", "PostgreSQL 16"},
	} {
		got := serverInstallAdvice(goos, 16)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", goos, got, w)
			}
		}
		if strings.Contains(got, "`") || strings.Contains(got, "sudo") || strings.Contains(got, "--") {
			t.Errorf("%s: a command in %q", goos, got)
		}
	}
}
