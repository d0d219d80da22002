package pgtools

import (
	"os/exec"
	"strings"
	"testing"
)

// Stderr of failures the integration tests cannot provoke here (DNS, TLS,
// pg_hba, locks), as PostgreSQL 13–17 clients print them.
func TestToolErrorClassifies(t *testing.T) {
	exit := exec.Command("false").Run() // a real *exec.ExitError
	for _, tc := range []struct {
		stderr string
		code   Code
		detail string
	}{
		{`pg_dump: error: connection to server at "10.0.0.9", port 5432 failed: FATAL:  no pg_hba.conf entry for host "10.0.0.2", user "app", database "shop", no encryption`, CodeNoHBA, "no pg_hba.conf entry"},
		{`pg_dump: error: could not translate host name "db.invalid" to address: Name or service not known`, CodeDNS, "db.invalid"},
		{`pg_dump: error: connection to server at "db" (10.0.0.9), port 5432 failed: server does not support SSL, but SSL was required`, CodeSSL, "SSL was required"},
		{`pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  role "ghost" does not exist`, CodeAuth, `role "ghost"`},
		{"pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout\npg_dump: detail: Query was: LOCK TABLE public.orders IN ACCESS SHARE MODE", CodeLock, "lock timeout"},
		{`pg_dump: error: query failed: ERROR:  invalid snapshot identifier: "00000003-0000001B-1"`, CodeSnapshot, "invalid snapshot"},
		// A server restart that closed the socket before its FATAL message
		// was read (issue 12: this was "cannot be reached", and flaky).
		{"pg_dump: error: Dumping the contents of table \"big\" failed: PQgetResult() failed.\npg_dump: detail: Error message from server: server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.", CodeConnLost, "server closed the connection"},
		{"pg_dump: error: Dumping the contents of table \"big\" failed: PQgetCopyData() failed.\npg_dump: detail: Error message from server: SSL SYSCALL error: EOF detected", CodeConnLost, "SSL SYSCALL"},
		// The same words while connecting: the server was not reached.
		{`pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: server closed the connection unexpectedly`, CodeUnreachable, "server closed the connection"},
		{"pg_dump: error: Dumping the contents of table \"big\" failed: PQgetResult() failed.\npg_dump: detail: Error message from server: FATAL:  terminating connection due to administrator command", CodeServerGone, "administrator command"},
		{"pg_dump: error: aborting because of server version mismatch\npg_dump: detail: server version: 17.2; pg_dump version: 15.18", CodeVersionMismatch, "server version: 17.2"},
	} {
		e := newToolError("pg_dump", exit, tc.stderr)
		if e.Code != tc.code || !strings.Contains(e.Error(), tc.detail) {
			t.Errorf("%q\n  → %s: %s; want %s mentioning %q", tc.stderr, e.Code, e.Error(), tc.code, tc.detail)
		}
	}
}
