//go:build !windows

package pgtools

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDiscoverUserDir uses a user-set directory holding a program that
// answers like pg_dump, and one whose pg_dump is broken.
func TestDiscoverUserDir(t *testing.T) {
	good := t.TempDir()
	script := "#!/bin/sh\necho 'pg_dump (PostgreSQL) 99.1'\n"
	if err := os.WriteFile(filepath.Join(good, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "pg_dump"), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ins := Discover(context.Background(), broken, good)
	if len(ins) == 0 || ins[0].Dir != good || ins[0].Version != (Version{Major: 99, Minor: 1}) {
		t.Fatalf("newest install = %+v, want version 99.1 in %s", ins, good)
	}
	if ins[0].PgRestore != "" {
		t.Fatalf("PgRestore = %q for a dir without pg_restore", ins[0].PgRestore)
	}
	for _, in := range ins {
		if in.Dir == broken {
			t.Fatalf("broken pg_dump reported as an install: %+v", in)
		}
	}
}
