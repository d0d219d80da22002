package pgtools

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDiscoverFindsSystemClient expects the Debian PostgreSQL 15 client that
// scripts/setup-deps.sh installs.
func TestDiscoverFindsSystemClient(t *testing.T) {
	ins := Discover(context.Background())
	for _, in := range ins {
		if in.Dir == "/usr/lib/postgresql/15/bin" {
			if in.Version.Major != 15 || in.PgRestore == "" || in.Psql == "" {
				t.Fatalf("PostgreSQL 15 install incomplete: %+v", in)
			}
			return
		}
	}
	t.Fatalf("pg_dump 15 not found in /usr/lib/postgresql/15/bin (run scripts/setup-deps.sh); found %+v", ins)
}

// TestDiscoverSkipsDebianWrapper: /usr/bin/pg_dump on Debian is pg_wrapper,
// which runs a pg_dump of /usr/lib/postgresql/*/bin that Discover finds
// itself: it is neither run nor remembered, unless the user names its
// directory.
func TestDiscoverSkipsDebianWrapper(t *testing.T) {
	real, err := filepath.EvalSymlinks("/usr/bin/pg_dump")
	if err != nil || !strings.HasPrefix(real, debianWrapper) {
		t.Fatalf("/usr/bin/pg_dump is not Debian's pg_wrapper (%q, %v): install postgresql-client (scripts/setup-deps.sh)", real, err)
	}
	_, known := DiscoverKnown(context.Background(), nil)
	for stamp := range known {
		if strings.HasPrefix(stamp, debianWrapper) {
			t.Fatalf("the wrapper was run and remembered: %q", stamp)
		}
	}
	ins, known := DiscoverKnown(context.Background(), nil, "/usr/bin")
	if !slices.ContainsFunc(ins, func(in Install) bool { return in.Dir == "/usr/bin" }) {
		t.Fatalf("a user-set /usr/bin was not searched: %+v", ins)
	}
	for stamp := range known {
		if strings.HasPrefix(stamp, debianWrapper) {
			t.Fatalf("the wrapper's answer was remembered: %q", stamp)
		}
	}
}
