package pgtools_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// The server programs of PG 15 (Debian) and the npm majors 13 and 17 are
// found, newest first, and a backup's major picks the closest at or above it.
func TestDiscoverServersAndPick(t *testing.T) {
	ctx := context.Background()
	d15, d13, d17 := testenv.ServerBinDir(t, 15), testenv.ServerBinDir(t, 13), testenv.ServerBinDir(t, 17)
	got := pgtools.DiscoverServers(ctx, d13, d15, d17, d15, t.TempDir())
	var majors []int
	for _, in := range got {
		majors = append(majors, in.Version.Major)
	}
	if len(got) != 3 || majors[0] != 17 || majors[1] != 15 || majors[2] != 13 {
		t.Fatalf("found %v, want 17, 15, 13", majors)
	}
	for _, c := range []struct{ backup, want int }{{13, 13}, {14, 15}, {15, 15}, {16, 17}, {17, 17}} {
		in, err := pgtools.PickServer(got, c.backup)
		if err != nil || in.Version.Major != c.want {
			t.Errorf("backup %d: picked %v %v, want %d", c.backup, in.Version, err, c.want)
		}
	}
	// Only newer binaries: a PG 15 backup is drilled with 17.
	if in, err := pgtools.PickServer(pgtools.DiscoverServers(ctx, d17), 15); err != nil || in.Dir != d17 {
		t.Fatalf("only 17 installed: %+v %v", in, err)
	}
	// Only older: the error says what was found and what to install.
	_, err := pgtools.PickServer(pgtools.DiscoverServers(ctx, d13), 15)
	var ns *pgtools.NoServerError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), "13.") || !strings.Contains(err.Error(), "PostgreSQL 15 or newer") {
		t.Fatalf("only 13 installed: %v", err)
	}
	// None at all.
	_, err = pgtools.PickServer(pgtools.DiscoverServers(ctx, t.TempDir()), 15)
	if err == nil || !strings.Contains(err.Error(), "no PostgreSQL server programs") || !strings.Contains(err.Error(), pgtools.ServerInstallAdvice(15)) {
		t.Fatalf("nothing installed: %v", err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(pgtools.ServerInstallAdvice(15), "postgresql-15") {
		t.Fatalf("linux advice: %s", pgtools.ServerInstallAdvice(15))
	}
}

// Without folders, the well-known places are searched: Debian's PG 15 here.
func TestDiscoverServersSystem(t *testing.T) {
	for _, in := range pgtools.DiscoverServers(context.Background()) {
		if in.Dir == "/usr/lib/postgresql/15/bin" && in.Version.Major == 15 {
			return
		}
	}
	t.Fatal("the PostgreSQL 15 server in /usr/lib/postgresql/15/bin was not found (install postgresql-15: scripts/setup-deps.sh)")
}
