package pgtools

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// maxGlobals bounds the SQL DumpGlobals keeps (roles and tablespaces: a few
// kilobytes, megabytes for servers with many thousands of roles).
const maxGlobals = 64 << 20

// DumpGlobals runs `pg_dumpall --globals-only --no-role-passwords` against
// conn's server (connecting to conn's database) and returns the SQL: the
// roles with their attributes, settings and memberships, and the
// tablespaces. Without passwords it reads pg_roles, not pg_authid, so a role
// that is not a superuser can run it. The output is checked to hold no
// password (ErrGlobalsPassword), so what is returned can be stored.
func DumpGlobals(ctx context.Context, pgDumpall string, conn Conn) ([]byte, error) {
	args := []string{"--globals-only", "--no-role-passwords", "--no-password",
		"--dbname=dbname=" + quoteConnValue(conn.Database)}
	run, err := start(ctx, "pg_dumpall", pgDumpall, args, conn, nil, nil)
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(run, maxGlobals+1))
	cerr := run.Close()
	if rerr != nil {
		return nil, rerr
	}
	if cerr != nil {
		return nil, cerr
	}
	if len(out) > maxGlobals {
		return nil, fmt.Errorf("pg_dumpall printed more than %d MiB of roles and tablespaces", maxGlobals>>20)
	}
	if HasPassword(out) {
		return nil, ErrGlobalsPassword
	}
	return out, nil
}

// ErrGlobalsPassword: pg_dumpall's output set a password although it was
// asked for none; it is not stored.
var ErrGlobalsPassword = fmt.Errorf("pg_dumpall printed a role password although asked not to; the roles were not stored")

var passwordRe = regexp.MustCompile(`(?i)\bPASSWORD\s+('|E'|\$|md5|SCRAM)`)

// HasPassword reports whether globals SQL sets a password (`… PASSWORD '…'`,
// a dollar-quoted or E'…' string). NOPASSWORD-like words and role names
// holding "password" do not count.
func HasPassword(sql []byte) bool {
	for _, st := range SplitStatements(string(sql)) {
		up := strings.ToUpper(st.Text)
		if (strings.HasPrefix(up, "CREATE ROLE") || strings.HasPrefix(up, "ALTER ROLE") ||
			strings.HasPrefix(up, "CREATE USER") || strings.HasPrefix(up, "ALTER USER")) &&
			passwordRe.MatchString(stripIdentifiers(st.Text)) {
			return true
		}
	}
	return false
}

// stripIdentifiers blanks out double-quoted identifiers, so a role named
// "PASSWORD 'x'" is not taken for a password.
func stripIdentifiers(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		if r == '"' {
			in = !in
			b.WriteRune(' ')
			continue
		}
		if in {
			b.WriteRune('x')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
