package webdav

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// doer logs in with Basic authentication and turns every answer that is
// not 2xx into a *StatusError, so that errors can be explained by status.
type doer struct {
	c              *http.Client
	user, password string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(d.user, d.password)
	resp, err := d.c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the storage's name already
		}
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, &StatusError{Method: req.Method, Code: resp.StatusCode, Location: resp.Header.Get("Location")}
	}
	return resp, nil
}

// StatusError is a WebDAV request the server answered with an error status.
type StatusError struct {
	Method   string
	Code     int
	Location string // of a redirect
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.Method, e.Code, http.StatusText(e.Code))
}

func isStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// explain turns an error of an operation (what: "read db/x") into what the
// user should check. The password is never part of it.
func (w *WebDAV) explain(err error, what string) error {
	var se *StatusError
	var pin *PinError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	where := w.where()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &se):
		switch c := se.Code; {
		case c == http.StatusNotFound:
			return fmt.Errorf("cannot %s: %w on WebDAV %s", what, storage.ErrNotFound, where)
		case c == http.StatusUnauthorized:
			return fmt.Errorf("cannot %s: the WebDAV server %s refused the user name or password (401): check them (Nextcloud and ownCloud with two-factor sign-in need an app password)", what, where)
		case c == http.StatusForbidden:
			return fmt.Errorf("cannot %s on WebDAV %s: the user %s is not allowed to (403): check the folder's permissions or sharing on the server", what, where, w.cfg.User)
		case c == http.StatusInsufficientStorage:
			return fmt.Errorf("cannot %s: the WebDAV server %s has no space left (507 Insufficient Storage): free some space or raise the user's quota on it, or choose another storage", what, where)
		case c == http.StatusRequestEntityTooLarge:
			return fmt.Errorf("cannot %s: the WebDAV server %s refuses files this large (413): raise its upload size limit", what, where)
		case c == http.StatusLocked:
			return fmt.Errorf("cannot %s on WebDAV %s: the file is locked by another program (423): try again later", what, where)
		case c == http.StatusMethodNotAllowed:
			return fmt.Errorf("cannot %s: %s does not answer as a WebDAV folder (%s): check the address (Nextcloud: https://HOST/remote.php/dav/files/USER/FOLDER/)", what, where, se)
		case c/100 == 3:
			return fmt.Errorf("cannot %s: the WebDAV server %s sends PgSafe to %s: use that address instead", what, where, se.Location)
		case c/100 == 5:
			return fmt.Errorf("cannot %s: the WebDAV server %s failed (%s): look at its log, or try again later", what, where, se)
		}
		return fmt.Errorf("cannot %s on WebDAV %s: the server %s", what, where, se)
	case errors.As(err, &pin):
		return fmt.Errorf("cannot %s: the certificate of the WebDAV server %s changed (SHA-256 now %s, pinned %s): if the server got a new certificate, pin the new one; otherwise someone may be intercepting the connection",
			what, where, pin.Got, pin.Pinned)
	case errors.As(err, &unknown) && unknown.Cert != nil:
		return fmt.Errorf("cannot %s: the certificate of the WebDAV server %s is not trusted by this computer (self-signed?); its SHA-256 fingerprint is %s: if that is your server's certificate (compare it on the server), pin it in the storage's settings",
			what, where, Fingerprint(unknown.Cert.Raw))
	case errors.As(err, &host) && host.Certificate != nil:
		return fmt.Errorf("cannot %s: the certificate of the WebDAV server %s is not for that name (%v); its SHA-256 fingerprint is %s: use the name it was made for, or pin it in the storage's settings",
			what, where, err, Fingerprint(host.Certificate.Raw))
	case errors.As(err, &invalid):
		return fmt.Errorf("cannot %s: the certificate of the WebDAV server %s is not valid (%v): renew it on the server", what, where, err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("cannot %s: the WebDAV server %s does not speak HTTPS at that address: use http:// (or enable HTTPS on the server)", what, where)
	case lost(err):
		return fmt.Errorf("cannot %s: the connection to the WebDAV server %s was lost (%v): check the network, and that the server is running", what, where, err)
	case unreachable(err):
		return fmt.Errorf("cannot %s: cannot reach the WebDAV server %s (%v): check the address, the network, and that the server is running", what, where, err)
	}
	return fmt.Errorf("cannot %s on WebDAV %s: %w", what, where, err)
}

// unreachable: no connection could be made.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") || errors.Is(err, syscall.ECONNREFUSED)
}

// lost: a connection broke mid-way.
func lost(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
