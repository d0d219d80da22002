package pgtools

import (
	"context"
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
