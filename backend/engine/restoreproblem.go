package engine

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgsafe/pgsafe/backend/restore"
)

// RestoreProblem says in words why a restore (RestoreBackup) failed, for
// the person who started it; the error itself is the technical detail.
func RestoreProblem(err error) string {
	var pgErr *pgconn.PgError
	var problem *restore.Problem
	var dnsErr *net.DNSError
	var roles *restore.RolesProblem
	switch {
	case errors.As(err, &roles):
		return upperFirst(roles.Error()) + "."
	case errors.Is(err, context.Canceled):
		return "The restore was cancelled."
	case errors.As(err, &problem):
		return "The backup could not be read to its end, so nothing of it was kept: " + problem.Detail + "."
	case errors.As(err, &pgErr) && pgErr.Code == "28P01":
		return "The target server refused the password of the user given for the restore."
	case errors.As(err, &pgErr) && pgErr.Code == "28000":
		return "The target server does not let the user given for the restore in: check the user name."
	case errors.As(err, &pgErr) && pgErr.Code == "42501":
		return "The user given for the restore lacks a privilege it needs: restoring into a new database needs a role that may create databases (CREATEDB), replacing one needs its owner."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Nothing accepts connections at the target server's address: check that PostgreSQL runs there."
	case errors.As(err, &dnsErr):
		return "The target server's host name does not resolve."
	}
	return upperFirst(err.Error()) + "."
}

func upperFirst(s string) string {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
