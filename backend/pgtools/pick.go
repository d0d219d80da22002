package pgtools

import (
	"fmt"
	"runtime"
	"strings"
)

// NoMatchingClientError says that no pg_dump on this machine can dump a server:
// pg_dump refuses servers newer than itself.
type NoMatchingClientError struct {
	ServerMajor int
	Found       []Install // what was found, newest first
}

func (e *NoMatchingClientError) Error() string {
	var found string
	if len(e.Found) == 0 {
		found = "no pg_dump was found on this machine"
	} else {
		vs := make([]string, len(e.Found))
		for i, in := range e.Found {
			vs[i] = fmt.Sprintf("%s (%s)", in.Version, in.Dir)
		}
		found = "found pg_dump " + strings.Join(vs, ", ")
	}
	return fmt.Sprintf("the server runs PostgreSQL %d and needs pg_dump %d or newer, but %s. %s",
		e.ServerMajor, e.ServerMajor, found, InstallAdviceFor(e.ServerMajor))
}

// Pick returns the install to dump a server of the given major version with:
// the oldest install whose major is at least the server's (the closest match,
// so the archive is the one that server's own tools would make). Installs
// without pg_restore are still eligible for dumping.
func Pick(installs []Install, serverMajor int) (Install, error) {
	best := -1
	for i, in := range installs {
		if in.Version.Major < serverMajor {
			continue
		}
		if best < 0 || in.Version.Major < installs[best].Version.Major ||
			(in.Version.Major == installs[best].Version.Major && in.Version.Minor > installs[best].Version.Minor) {
			best = i
		}
	}
	if best < 0 {
		return Install{}, &NoMatchingClientError{ServerMajor: serverMajor, Found: installs}
	}
	return installs[best], nil
}

// InstallAdviceFor tells the user how to install the client tools of one
// major version (or newer) on this OS.
func InstallAdviceFor(major int) string {
	switch runtime.GOOS {
	case "darwin":
		return fmt.Sprintf("Install them with `brew install postgresql@%d` (or `brew install libpq`, which is always the newest), or use Postgres.app; "+
			"or set the folder of a newer pg_dump in Settings.", major)
	case "windows":
		return fmt.Sprintf("Install PostgreSQL %d or newer from postgresql.org/download/windows (the \"Command Line Tools\" component is enough), "+
			"or set the folder of a newer pg_dump in Settings.", major)
	default:
		return fmt.Sprintf("Install them with `sudo apt install postgresql-client-%d` (Debian/Ubuntu, from the PGDG repository apt.postgresql.org) "+
			"or `sudo dnf install postgresql%d` (Fedora/RHEL, PGDG), or set the folder of a newer pg_dump in Settings.", major, major)
	}
}
