//go:build !windows

package pgtools

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestDiscoverKnownRunsOnlyNewPrograms: a program whose version is known by
// its stamp is not run again; one replaced (another size and time) is, and
// what is returned as known names only the programs found this time.
func TestDiscoverKnownRunsOnlyNewPrograms(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	write := func(version string, mtime time.Time) {
		t.Helper()
		script := "#!/bin/sh\necho run >> '" + runs + "'\necho 'pg_dump (PostgreSQL) " + version + "'\n"
		exe := filepath.Join(dir, "pg_dump")
		if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(exe, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	ran := func() int {
		data, _ := os.ReadFile(runs)
		return strings.Count(string(data), "run\n")
	}
	find := func(ins []Install) Version {
		for _, in := range ins {
			if in.Dir == dir {
				return in.Version
			}
		}
		t.Fatalf("%s not among the installs %+v", dir, ins)
		return Version{}
	}
	ctx := context.Background()
	write("98.1", time.Unix(1_700_000_000, 0))
	ins, known := DiscoverKnown(ctx, nil, dir)
	if v := find(ins); v != (Version{Major: 98, Minor: 1}) || ran() != 1 {
		t.Fatalf("first discovery: version %v, ran %d times; want 98.1, once", v, ran())
	}
	stamp, _ := Stamp(filepath.Join(dir, "pg_dump"))
	if known[stamp] != (Version{Major: 98, Minor: 1}) {
		t.Fatalf("known = %v, want 98.1 under %q", known, stamp)
	}
	ins, again := DiscoverKnown(ctx, known, dir)
	if v := find(ins); v != (Version{Major: 98, Minor: 1}) || ran() != 1 {
		t.Fatalf("known program: version %v, ran %d times; want 98.1 without running it again", v, ran())
	}
	if !maps.Equal(again, known) {
		t.Fatalf("known after a second discovery = %v, want %v", again, known)
	}
	write("99.2", time.Unix(1_700_000_100, 0)) // an upgrade replaces the program
	ins, upgraded := DiscoverKnown(ctx, known, dir)
	if v := find(ins); v != (Version{Major: 99, Minor: 2}) || ran() != 2 {
		t.Fatalf("replaced program: version %v, ran %d times; want 99.2, run again", v, ran())
	}
	if _, ok := upgraded[stamp]; ok {
		t.Fatalf("the replaced program's old stamp is still known: %v", upgraded)
	}
}
