// Package pg owns PgSafe's own PostgreSQL sessions: connection settings (typed
// fields or a pasted postgres:// URI / libpq key=value string, parsed by
// pgx), the "Test connection" probe with classified, actionable errors, the
// read-only audit (every way a role could change data, and everything
// pg_dump would fail to read), and the guided creation of a dedicated
// read-only backup role.
//
// Every session this package opens is read-only by default
// (default_transaction_read_only=on, checked after connecting), as defence in
// depth; the only writes it ever makes are the role setup's, in one explicit
// READ WRITE transaction on credentials typed in for that moment.
//
// Passwords travel as Secret, which never prints; errors name the host, port,
// user and database but never the password or the connection string.
// docs/PRIVILEGES.md describes every audit check, its query, its
// classification and its fix.
package pg
