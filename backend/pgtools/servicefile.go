package pgtools

import (
	"errors"
	"strings"
)

// serviceName is the service of the service file that carries settings libpq
// takes neither from the environment nor safely from the command line.
const serviceName = "pgsafe"

// newServiceSecret hands the client key's passphrase (libpq's sslpassword)
// to one client program through a service file (PGSERVICEFILE, PGSERVICE),
// kept like the passfile (newSecretFile: on Linux an anonymous memory file
// that no kill leaves behind). nil without a passphrase.
func newServiceSecret(sslPassword string) (*passSecret, error) {
	if sslPassword == "" {
		return nil, nil
	}
	// libpq reads the service file line by line and drops the whitespace at
	// the end of a line.
	if strings.ContainsAny(sslPassword, "\r\n") || strings.TrimRight(sslPassword, " \t\v\f") != sslPassword {
		return nil, errors.New("the client key's passphrase holds a line break or ends with a space, which PostgreSQL's client programs cannot take: protect the key with another passphrase")
	}
	return newSecretFile("pgsafe-service", "["+serviceName+"]\nsslpassword="+sslPassword+"\n")
}
