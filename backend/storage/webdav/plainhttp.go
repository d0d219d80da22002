package webdav

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ErrPlainHTTP refuses an http:// address to another machine when a
// password would be sent: WebDAV logs in with Basic auth, which over plain
// http carries the password readable by anyone on the network path. The
// backups themselves are encrypted before they leave, whatever the address.
var ErrPlainHTTP = errors.New("the address starts with http://, so the WebDAV password would travel unencrypted over the network: use an https:// address, or allow plain http for a server on a trusted network (the same machine or your LAN)")

// PlainHTTP says whether raw is an http:// address of a host other than
// this machine (127.0.0.0/8, ::1, localhost): a password sent to it can
// be read on the network.
func PlainHTTP(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	return !Loopback(u.Hostname())
}

// Loopback says whether host is this machine: localhost (and its
// subdomains, RFC 6761) or a loopback IP address.
func Loopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckTransport refuses (ErrPlainHTTP) a password sent over plain http to
// another machine unless allowHTTP says the user chose it.
func CheckTransport(raw string, hasPassword, allowHTTP bool) error {
	if hasPassword && !allowHTTP && PlainHTTP(raw) {
		return ErrPlainHTTP
	}
	return nil
}
