package pg

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Code classifies why a connection failed, so the UI and the CLI can say
// what to do.
type Code string

const (
	CodeConfig             Code = "config"               // the settings themselves are unusable
	CodeDNS                Code = "dns"                  // the host name does not resolve
	CodeRefused            Code = "refused"              // nothing listens on that host and port
	CodeTimeout            Code = "timeout"              // no answer in time
	CodeUnreachable        Code = "unreachable"          // no route, network down, other network errors
	CodeAuth               Code = "auth"                 // wrong password or unknown user
	CodeNoHBA              Code = "no_hba_entry"         // pg_hba.conf has no line that lets this client in (or rejects it)
	CodeSSLRequired        Code = "ssl_required"         // the server only accepts encrypted connections
	CodeSSLNotSupported    Code = "ssl_not_supported"    // the server does not offer TLS, the settings demand it
	CodeCertificate        Code = "certificate"          // the server's certificate does not match or is not trusted
	CodeNoDatabase         Code = "no_database"          // the database does not exist
	CodeNoConnect          Code = "no_connect_privilege" // the role may not connect to this database
	CodeTooManyConnections Code = "too_many_connections" // the server's connection slots are full
	CodeServerUnavailable  Code = "server_unavailable"   // starting up, shutting down, in recovery
	CodePooler             Code = "pooler"               // a connection pooler refused PgSafe's read-only setting
	CodeNotReadOnly        Code = "not_read_only"        // the session could not be made read-only
	CodeCancelled          Code = "cancelled"            // PgSafe stopped the attempt
	CodeOther              Code = "other"
)

// ConnError is a failed connection: what it means and what to do (Message),
// and the server's or network's own words (Detail). It names the server,
// user and database, never the password or the connection string.
type ConnError struct {
	Code     Code
	Addr     string // host:port
	User     string
	Database string
	Message  string // what happened and what to do, for people
	Detail   string // the server's message or the network error, for support
	Err      error
}

func (e *ConnError) Error() string {
	s := fmt.Sprintf("cannot connect to %s as %q: %s", e.target(), e.User, e.Message)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *ConnError) target() string {
	if e.Database == "" {
		return e.Addr
	}
	return e.Addr + "/" + e.Database
}

func (e *ConnError) Unwrap() error { return e.Err }

const sslRequiredMessage = "the server accepts this connection only encrypted: set sslmode to require, or better verify-full with the server's CA certificate"

// unencryptedNoHBA reports whether err is pg_hba.conf having no line for an
// unencrypted connection: then an encrypted one may be let in.
func unencryptedNoHBA(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.Contains(pgErr.Message, "no pg_hba.conf entry") &&
		(strings.Contains(pgErr.Message, "SSL off") || strings.Contains(pgErr.Message, "no encryption"))
}

// classify explains err, from connecting with cfg.
func classify(cfg Config, err error) *ConnError {
	e := &ConnError{Addr: cfg.Addr(), User: cfg.User, Database: cfg.Database, Err: err}
	set := func(c Code, msg string) *ConnError {
		e.Code, e.Message = c, msg
		return e
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e.Detail = "server said: " + pgErr.Message
		msg := pgErr.Message
		switch {
		case pgErr.Code == "28P01":
			return set(CodeAuth, "the server refused the password: check the user name and password")
		case strings.Contains(msg, "no pg_hba.conf entry"), strings.Contains(msg, "pg_hba.conf rejects"):
			return set(CodeNoHBA, "the server's pg_hba.conf does not let this machine connect as this user to this database: ask the server's administrator to add a line for it (and reload the server)")
		case pgErr.Code == "28000":
			return set(CodeAuth, "the server does not know this user, or refused it: check the user name")
		case pgErr.Code == "3D000":
			return set(CodeNoDatabase, "the database does not exist on this server: check its name (database names are case-sensitive)")
		case pgErr.Code == "42501":
			return set(CodeNoConnect, "this user may not connect to this database: an administrator can run GRANT CONNECT ON DATABASE … TO …")
		case pgErr.Code == "53300":
			return set(CodeTooManyConnections, "the server has no free connection slots: try again later, or ask the administrator to raise max_connections")
		case pgErr.Code == "57P03", pgErr.Code == "57P01":
			return set(CodeServerUnavailable, "the server is starting up or shutting down: try again in a minute")
		case strings.Contains(msg, "unsupported startup parameter"):
			return set(CodePooler, "a connection pooler (PgBouncer?) refused PgSafe's read-only session setting: add default_transaction_read_only to its ignore_startup_parameters, or connect to PostgreSQL directly")
		}
		return set(CodeOther, "the server refused the connection")
	}
	e.Detail = networkDetail(err)
	var dnsErr *net.DNSError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var certErr x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	// Most progressed first: a host with several addresses (localhost: ::1
	// and 127.0.0.1) can fail differently on each.
	switch {
	case errors.Is(err, context.Canceled):
		return set(CodeCancelled, "stopped before the connection was made")
	case errors.As(err, &hostErr):
		return set(CodeCertificate, "the server's certificate is not for this host name: connect with the name the certificate was issued for, or fix the certificate")
	case errors.As(err, &authErr), errors.As(err, &verifyErr), errors.As(err, &certErr),
		strings.Contains(e.Detail, "x509:"), strings.Contains(e.Detail, "failed to verify certificate"):
		return set(CodeCertificate, "the server's certificate could not be verified: check the CA certificate file (sslrootcert) and that the certificate is valid and not expired")
	case strings.Contains(e.Detail, "server refused TLS connection"):
		return set(CodeSSLNotSupported, "the server does not offer encrypted connections, but the SSL mode demands them: enable SSL on the server, or (on a trusted network only) lower sslmode")
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded), isNetTimeout(err):
		return set(CodeTimeout, "the server did not answer in time: check the host and port, firewalls and VPN, and that the port is PostgreSQL's")
	case errors.Is(err, syscall.ECONNREFUSED):
		return set(CodeRefused, "nothing accepts connections on that host and port: check that PostgreSQL is running, the port, and that it listens on this address (listen_addresses)")
	case errors.As(err, &dnsErr):
		return set(CodeDNS, "the host name does not resolve: check its spelling, and this machine's network, DNS or VPN")
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return set(CodeUnreachable, "there is no network route to the server: check this machine's network or VPN")
	case strings.Contains(e.Detail, "tls:"):
		return set(CodeCertificate, "the encrypted connection could not be set up: check the SSL mode and the certificate files")
	}
	return set(CodeOther, "the connection failed")
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// networkDetail is the innermost non-pgx error text: the network's or the
// TLS library's words, without pgx's "failed to connect to `user=…`" prefix.
func networkDetail(err error) string {
	var parts []string
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if next := errors.Unwrap(err); next != nil {
			if _, isConnect := err.(*pgconn.ConnectError); isConnect {
				walk(next)
				return
			}
			if strings.HasPrefix(err.Error(), "failed to connect to") {
				walk(next)
				return
			}
		}
		parts = append(parts, err.Error())
	}
	walk(err)
	return strings.Join(parts, "; ")
}

// ExplainConnect says in words why connecting as c failed (a *ConnError:
// what happened and what to do, the server's own words as detail), for the
// sessions PgSafe opens through a pgtools.Conn (the backup's snapshot).
func ExplainConnect(c pgtools.Conn, err error) error {
	return classify(Config{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User}, err)
}
