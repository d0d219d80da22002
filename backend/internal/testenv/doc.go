// Package testenv owns PgSafe's integration-test harness: helpers that start
// a throwaway REAL server for one test and stop it at t.Cleanup.
//
//   - Keychain: a private D-Bus session bus running gnome-keyring-daemon
//     (Secret Service), so go-keyring talks to a real keychain; KeychainMissing
//     and KeychainNoBus simulate a machine without one.
//   - Postgres: a throwaway PostgreSQL cluster (initdb + pg_ctl) with a random
//     scram-sha-256 superuser password, from Debian's binaries or from another
//     major installed under .tools/postgres/<major>.
//   - S3: versitygw (an S3 server that really checks SigV4) on a temp dir.
//   - SFTP: Debian's sshd with its own config, key authentication only.
//   - Azurite: Microsoft's Azure Blob emulator (npm azurite, under
//     .tools/azurite), with a random account and key.
//
// Servers that refuse to run as root (PostgreSQL) and sshd run as an
// unprivileged user when the tests run as root (CI): PGSAFE_TEST_USER, else
// "pgsafe-test" (created by scripts/setup-deps.sh, run by `make test-deps`),
// else "nobody" — enough for PostgreSQL, but sshd refuses logins as nobody
// where nss-systemd marks it locked (Debian 12), so SFTP then fails with that
// hint. As a normal user, servers run as that user.
//
// Tools are found under <repo root>/.tools (the directory holding go.mod,
// found by walking up from the working directory), or under PGSAFE_TOOLS_DIR
// when set: versitygw in <tools>/bin, other PostgreSQL majors in
// <tools>/postgres/<major>/bin. A missing tool fails the test with the command
// that installs it (`make test-deps`); nothing is skipped silently.
//
// Every child process is stopped at cleanup, also when the test fails midway;
// direct children also get SIGKILL if the test binary dies, and a PostgreSQL
// cluster has a watchdog that stops it when the test binary goes away.
//
// Keychain and KeychainMissing change process-wide environment variables
// (t.Setenv), so tests that use them cannot run in parallel. The other helpers
// can.
package testenv
