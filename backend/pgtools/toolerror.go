package pgtools

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// Code classifies why a client program failed, so the UI and notifications
// can say what to do.
type Code string

const (
	CodeAuth            Code = "auth"             // wrong password or user
	CodeNoHBA           Code = "no_hba_entry"     // pg_hba.conf has no line for this client
	CodeUnreachable     Code = "unreachable"      // refused, timed out, no route
	CodeDNS             Code = "dns"              // host name does not resolve
	CodeNoDatabase      Code = "no_database"      // the database does not exist
	CodeVersionMismatch Code = "version_mismatch" // pg_dump older than the server
	CodePermission      Code = "permission"       // the role cannot read an object
	CodeLock            Code = "lock_timeout"     // a table lock was not granted in time
	CodeSnapshot        Code = "snapshot"         // the exported snapshot is gone
	CodeSSL             Code = "ssl"              // TLS required, refused or unverifiable
	CodeCancelled       Code = "cancelled"        // PgSafe stopped it
	CodeKilled          Code = "killed"           // a signal PgSafe did not send (OOM killer, kill -9)
	CodeServerGone      Code = "server_gone"      // the server restarted or shut down mid-run
	CodeTerminated      Code = "terminated"       // the server ended the session (pg_terminate_backend) while it stayed up
	CodeConnLost        Code = "connection_lost"  // the connection was lost mid-run without a word from the server
	CodeOther           Code = "other"
)

// ToolError is a failed pg_dump/pg_restore/psql run: what it means and what to
// do (Message), and the program's own last error line (Detail).
type ToolError struct {
	Tool    string // "pg_dump"
	Code    Code
	Message string // what happened and what to do, for people
	Detail  string // the program's own error line(s), for support
	Stderr  string // the end of its stderr
	Err     error  // *exec.ExitError or the context's error
}

func (e *ToolError) Error() string {
	if e.Detail == "" || e.Code == CodeCancelled {
		return e.Tool + ": " + e.Message
	}
	return fmt.Sprintf("%s: %s (%s said: %s)", e.Tool, e.Message, e.Tool, e.Detail)
}

func (e *ToolError) Unwrap() error { return e.Err }

var (
	permRe    = regexp.MustCompile(`permission denied for (?:table|relation|sequence|schema|large object|database|function) ([^\s]+)`)
	errLineRe = regexp.MustCompile(`(?m)^(?:pg_dump|pg_restore|psql|pg_dumpall): (?:error|FATAL|ERROR|detail|DETAIL|hint|HINT): ?(.*)$`)
)

// newToolError explains a failed run from its error and stderr.
func newToolError(tool string, err error, stderr string) *ToolError {
	e := &ToolError{Tool: tool, Err: err, Stderr: stderr, Detail: errorLines(stderr)}
	var ee *exec.ExitError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Code, e.Message = CodeCancelled, "stopped before it finished"
		return e
	case !errors.As(err, &ee) && err != nil:
		e.Code, e.Message = CodeOther, "did not run: "+err.Error()
		return e
	}
	s := stderr
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	if ws, ok := ee.Sys().(interface{ Signaled() bool }); ok && ws.Signaled() && !has("FATAL", "ERROR") {
		e.Code, e.Message = CodeKilled, fmt.Sprintf("was killed (%v) before it finished: by the system running out of memory, or by someone; retry, and check the system log if it happens again", err)
		return e
	}
	switch {
	case has("terminating connection due to administrator command", "the database system is shutting down",
		"terminating connection due to unexpected postmaster exit", "the database system is starting up"):
		// Also what a session ended by pg_terminate_backend reads: the
		// backup pipeline tells the two apart by asking the server afterwards.
		e.Code, e.Message = CodeServerGone, "the server ended the session during the run (it restarted or shut down, or an administrator ended the session): retry once it is back"
	case has("server version mismatch", "aborting because of server version mismatch"):
		e.Code, e.Message = CodeVersionMismatch, "this "+tool+" is older than the server; PgSafe needs a "+tool+" at least as new as the server"
	case has("password authentication failed", "no password supplied"):
		e.Code, e.Message = CodeAuth, "the server refused the password: check the user name and password stored for this database"
	case regexp.MustCompile(`role "[^"]*" does not exist`).MatchString(s):
		e.Code, e.Message = CodeAuth, "the user does not exist on this server: check the user name stored for this database"
	case has("no pg_hba.conf entry"):
		e.Code, e.Message = CodeNoHBA, "the server's pg_hba.conf has no entry that lets this machine connect as this user: ask the server's administrator to add one"
	case has("database \"") && has("\" does not exist"):
		e.Code, e.Message = CodeNoDatabase, "the database does not exist on this server: check its name"
	case has("could not translate host name", "Name or service not known", "nodename nor servname"):
		e.Code, e.Message = CodeDNS, "the server's host name does not resolve: check the host, and this machine's network or VPN"
	case has("server closed the connection unexpectedly", "SSL SYSCALL error: EOF detected", "could not receive data from server") &&
		!has("connection to server at", "connection to server on socket", "could not connect to server"):
		// The connection was made, then lost mid-run: the server restarted,
		// crashed or ended the session, or the network dropped. A restart
		// often closes the socket before its FATAL message is read, so this
		// is not "cannot be reached" (the run did reach it).
		e.Code, e.Message = CodeConnLost, "the connection to the server was lost during the run (the server restarted, crashed or ended the session, or the network dropped): retry once the server is back"
	case has("Connection refused", "timeout expired", "Connection timed out", "No route to host", "Network is unreachable", "could not connect to server", "server closed the connection unexpectedly"):
		e.Code, e.Message = CodeUnreachable, "the server cannot be reached: check that it is running, the host and port, and any firewall or VPN"
	case has("SSL", "certificate"):
		e.Code, e.Message = CodeSSL, "the TLS connection failed: check the SSL mode and the certificate files of this database"
	case permRe.MatchString(s):
		obj := permRe.FindStringSubmatch(s)[1]
		e.Code, e.Message = CodePermission, "the backup role cannot read "+obj+": grant it read access (the database's read-only check shows the SQL)"
	case has("could not obtain lock", "lock timeout", "canceling statement due to lock timeout"):
		e.Code, e.Message = CodeLock, "a table stayed locked by another session: retry later, or raise the lock wait timeout"
	case has("invalid snapshot identifier", "could not import the requested snapshot"):
		e.Code, e.Message = CodeSnapshot, "the consistent snapshot ended before the dump started: retry the backup"
	default:
		e.Code, e.Message = CodeOther, fmt.Sprintf("failed (%v)", err)
	}
	return e
}

// errorLines picks the program's error lines (up to three) from stderr.
func errorLines(stderr string) string {
	var out []string
	for _, m := range errLineRe.FindAllStringSubmatch(stderr, -1) {
		if line := strings.TrimSpace(m[1]); line != "" {
			out = append(out, line)
		}
	}
	if len(out) > 3 {
		out = out[len(out)-3:]
	}
	return strings.Join(out, " / ")
}
