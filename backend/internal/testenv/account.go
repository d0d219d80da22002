package testenv

import "testing"

// ServerAccount is the unprivileged account servers run as when the tests
// run as root (see the package doc); ok is false when they do not run as
// root (servers then run as the current user). Product code that starts a
// server (backend/pgtools/scratch) takes such an account from its tests.
func ServerAccount(t testing.TB) (name string, uid, gid uint32, ok bool) {
	t.Helper()
	u := serverUser(t)
	if u == nil {
		return "", 0, 0, false
	}
	return u.Name, u.Uid, u.Gid, true
}

// ServerBinDir is the directory of PostgreSQL major's server binaries
// (initdb, pg_ctl, postgres) that Postgres(t, WithVersion(major)) uses; 0 is
// the default (Debian's). It fails the test when they are not installed.
func ServerBinDir(t testing.TB, major int) string {
	t.Helper()
	return resolvePGBinDir(t, pgConfig{version: major})
}
