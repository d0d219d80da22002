package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage/webdav"
	"github.com/pgsafe/pgsafe/backend/store"
)

// AddStorage refuses a WebDAV password over plain http to another machine
// unless the user allowed it (and keeps that choice in the storage's
// settings); this machine over http and any machine over https need no
// consent. The server is real (Apache on 127.0.0.1); 0.0.0.0 reaches it
// too (Linux connects it to this machine) but is not a loopback address,
// so it plays a server on the LAN.
func TestAddStorageWebDAVPlainHTTP(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.WebDAV(t)
	lan := fmt.Sprintf("http://0.0.0.0:%d/dav/", srv.Port)
	add := func(name, url string, allow bool, srv *testenv.WebDAVServer) error {
		in := StorageInput{Name: name, Kind: "webdav", URL: url, User: srv.User, Password: srv.Password, AllowHTTP: allow, CertSHA256: srv.CertSHA256}
		c, err := in.Config()
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.AddStorage(ctx, c)
		return err
	}
	if err := add("here", srv.URL, false, srv); err != nil {
		t.Fatalf("http to this machine (%s): %v", srv.URL, err)
	}
	err := add("lan", lan, false, srv)
	if !errors.Is(err, webdav.ErrPlainHTTP) || !strings.Contains(err.Error(), "unencrypted") || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("http to another machine without consent: %v; want ErrPlainHTTP", err)
	}
	if _, err := e.store.StorageByName(ctx, "lan"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused storage was stored: %v", err)
	}
	if err := add("lan", lan, true, srv); err != nil {
		t.Fatalf("http to another machine with consent: %v", err)
	}
	st, err := e.store.StorageByName(ctx, "lan")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.StorageCredentials(ctx, st.ID)
	if err != nil || c.WebDAV == nil || !c.WebDAV.AllowHTTP {
		t.Fatalf("stored settings %+v, %v: want AllowHTTP kept", c.WebDAV, err)
	}
	if err := e.TestStorage(ctx, "lan"); err != nil {
		t.Fatalf("TestStorage of the allowed http storage: %v", err)
	}

	tls := testenv.WebDAV(t, testenv.WithTLS())
	if err := add("lan-https", fmt.Sprintf("https://0.0.0.0:%d/dav/", tls.Port), false, tls); err != nil {
		t.Fatalf("https to another machine: %v", err)
	}
}
