package webdav

import (
	"errors"
	"testing"
)

// The rule: a password over plain http to another machine needs the
// user's consent; this machine and https need none.
func TestCheckTransport(t *testing.T) {
	for _, c := range []struct {
		url         string
		password    bool
		allow       bool
		wantRefused bool
	}{
		{"http://127.0.0.1:8080/dav/", true, false, false},
		{"http://127.3.4.5/dav/", true, false, false},
		{"http://localhost/dav/", true, false, false},
		{"http://LocalHost./dav/", true, false, false},
		{"http://[::1]:8080/dav/", true, false, false},
		{"http://192.168.1.10/dav/", true, false, true},
		{"HTTP://nas.local/dav/", true, false, true},
		{"http://[fd00::10]/dav/", true, false, true},
		{"http://0.0.0.0:8080/dav/", true, false, true}, // not a loopback address
		{"http://localhost.example.com/dav/", true, false, true},
		{"http://192.168.1.10/dav/", true, true, false},
		{"http://192.168.1.10/dav/", false, false, false}, // no password: nothing secret travels
		{"https://192.168.1.10/dav/", true, false, false},
		{"https://cloud.example.com/remote.php/dav/files/ann/", true, false, false},
	} {
		err := CheckTransport(c.url, c.password, c.allow)
		if refused := errors.Is(err, ErrPlainHTTP); refused != c.wantRefused || (err != nil && !refused) {
			t.Errorf("CheckTransport(%q, password %v, allow %v) = %v; want refused %v", c.url, c.password, c.allow, err, c.wantRefused)
		}
	}
}
