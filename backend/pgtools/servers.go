package pgtools

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ServerInstall is one directory holding the PostgreSQL server programs
// initdb and postgres (a drill starts a throwaway cluster with them).
type ServerInstall struct {
	Dir      string  `json:"dir"`
	Version  Version `json:"version"`
	Initdb   string  `json:"initdb"`
	Postgres string  `json:"postgres"`
}

// DiscoverServers looks for initdb and postgres side by side in dirs, or,
// when dirs is empty, in the well-known install locations of this OS
// (Debian/Ubuntu's /usr/lib/postgresql/N/bin, PGDG's /usr/pgsql-N/bin,
// Homebrew, Postgres.app, the EDB installer's folders) and PATH, runs each
// postgres with --version, and returns the installs newest first, each
// version once.
func DiscoverServers(ctx context.Context, dirs ...string) []ServerInstall {
	if len(dirs) == 0 {
		dirs = candidateDirs()
	}
	var out []ServerInstall
	seen := map[string]bool{}
	for _, dir := range dirs {
		pg := filepath.Join(dir, programName("postgres"))
		initdb := filepath.Join(dir, programName("initdb"))
		real, err := filepath.EvalSymlinks(pg)
		if err != nil || seen[real] || !isFile(initdb) {
			continue
		}
		seen[real] = true
		v, err := ProgramVersion(ctx, pg)
		if err != nil || hasServer(out, v) {
			continue
		}
		out = append(out, ServerInstall{Dir: dir, Version: v, Initdb: initdb, Postgres: pg})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Version.Major != out[j].Version.Major {
			return out[i].Version.Major > out[j].Version.Major
		}
		return out[i].Version.Minor > out[j].Version.Minor
	})
	return out
}

func hasServer(ins []ServerInstall, v Version) bool {
	for _, in := range ins {
		if in.Version == v {
			return true
		}
	}
	return false
}

// NoServerError says no PostgreSQL server programs on this machine can hold
// a restore of a backup: a server older than the backup's may not read it.
type NoServerError struct {
	BackupMajor int
	Found       []ServerInstall // newest first
}

func (e *NoServerError) Error() string {
	found := "no PostgreSQL server programs (initdb and postgres) were found on this computer"
	if len(e.Found) > 0 {
		vs := make([]string, len(e.Found))
		for i, in := range e.Found {
			vs[i] = fmt.Sprintf("%s (%s)", in.Version, in.Dir)
		}
		found = "the PostgreSQL servers found are older: " + strings.Join(vs, ", ")
	}
	return fmt.Sprintf("a drill of this backup needs PostgreSQL %d or newer, and %s. %s",
		e.BackupMajor, found, ServerInstallAdvice(e.BackupMajor))
}

// PickServer returns the install to drill a backup of the given major with:
// the oldest whose major is at least the backup's (the closest to the
// server the backup came from).
func PickServer(installs []ServerInstall, backupMajor int) (ServerInstall, error) {
	best := -1
	for i, in := range installs {
		if in.Version.Major < backupMajor {
			continue
		}
		if best < 0 || in.Version.Major < installs[best].Version.Major {
			best = i
		}
	}
	if best < 0 {
		return ServerInstall{}, &NoServerError{BackupMajor: backupMajor, Found: installs}
	}
	return installs[best], nil
}

// ServerInstallAdvice tells the user how to install the PostgreSQL server
// programs of one major version (or newer) on this OS, in words a window can
// show (package names, no commands).
func ServerInstallAdvice(major int) string {
	return serverInstallAdvice(runtime.GOOS, major)
}

func serverInstallAdvice(goos string, major int) string {
	switch goos {
	case "darwin":
		return fmt.Sprintf("Install PostgreSQL %d or newer with Homebrew (the formula postgresql@%d) or Postgres.app, "+
			"or with the EDB installer from postgresql.org; PgSafe finds it there and starts a throwaway server for each drill.", major, major)
	case "windows":
		return fmt.Sprintf("Install PostgreSQL %d or newer with the EDB installer from postgresql.org/download/windows "+
			"(the \"PostgreSQL Server\" component; the service it installs may stay stopped); PgSafe starts a throwaway server for each drill.", major)
	default:
		return fmt.Sprintf("Install the PostgreSQL %d server (or newer): the package postgresql-%d on Debian or Ubuntu "+
			"(apt.postgresql.org has every version), postgresql-server on Fedora, or postgresql%d-server from the PGDG repository on RHEL; "+
			"the server does not need to run: PgSafe starts a throwaway one for each drill.", major, major, major)
	}
}
