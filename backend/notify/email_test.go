package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// These tests deliver to a real SMTP server (github.com/emersion/go-smtp)
// running in the test process, over STARTTLS and TLS with a certificate
// from a test CA, and in plain text.

type testCA struct {
	certPEM []byte
	server  tls.Certificate // for 127.0.0.1 and localhost, signed by the CA
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "PgSafe test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}
}

func (ca *testCA) file(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, ca.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mailServer records what the SMTP server received.
type mailServer struct {
	port       int
	mechs      []string // offered AUTH mechanisms
	user, pass string   // accepted credentials

	mu    sync.Mutex
	auths []authAttempt
	mails []received
}

type authAttempt struct {
	mech, user, pass string
	tls              bool
}

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string // the user the session authenticated as
}

type smtpMode int

const (
	modePlain    smtpMode = iota // no TLS at all
	modeStartTLS                 // STARTTLS offered; AUTH only after it
	modeTLS                      // TLS from the first byte
)

func startMailServer(t *testing.T, mode smtpMode, ca *testCA, mechs ...string) *mailServer {
	t.Helper()
	ms := &mailServer{mechs: mechs, user: "pgsafe", pass: "smtpSECRETpw"}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &mailSession{ms: ms, c: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{ca.server}, MinVersion: tls.VersionTLS12}
	switch mode {
	case modePlain:
		s.AllowInsecureAuth = true
	case modeStartTLS:
		s.TLSConfig = tlsConf
	case modeTLS:
		l = tls.NewListener(l, tlsConf)
	}
	ms.port = l.Addr().(*net.TCPAddr).Port
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ms
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

type mailSession struct {
	ms     *mailServer
	c      *gosmtp.Conn
	msg    received
	authed string
}

func (s *mailSession) isTLS() bool { _, ok := s.c.TLSConnectionState(); return ok }

func (s *mailSession) check(mech, user, pass string) error {
	s.ms.mu.Lock()
	s.ms.auths = append(s.ms.auths, authAttempt{mech, user, pass, s.isTLS()})
	s.ms.mu.Unlock()
	if user != s.ms.user || pass != s.ms.pass {
		return errors.New("invalid credentials")
	}
	s.authed = user
	return nil
}

func (s *mailSession) AuthMechanisms() []string { return s.ms.mechs }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.check(mech, user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: func(user, pass string) error { return s.check(mech, user, pass) }}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.msg = received{from: from, tls: s.isTLS(), authed: s.authed}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = data
	s.ms.mu.Lock()
	s.ms.mails = append(s.ms.mails, s.msg)
	s.ms.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.msg = received{} }
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of SASL LOGIN (go-sasl has the client only).
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(response))
	}
}

func (ms *mailServer) settings(security string) map[string]string {
	return map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(ms.port), "security": security,
		"from": "PgSafe <pgsafe@example.com>", "to": "ops@example.com, Night Shift <night@example.org>",
	}
}

func (ms *mailServer) only(t *testing.T) received {
	t.Helper()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.mails) != 1 {
		t.Fatalf("the server received %d mails, want 1", len(ms.mails))
	}
	return ms.mails[0]
}

// checkMail parses the mail and checks envelope, headers and body.
func checkMail(t *testing.T, m received, ev Event) {
	t.Helper()
	if m.from != "pgsafe@example.com" || !slices.Equal(m.to, []string{"ops@example.com", "night@example.org"}) {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatalf("the mail does not parse: %v\n%s", err, m.data)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"From":                      `"PgSafe" <pgsafe@example.com>`,
		"To":                        `<ops@example.com>, "Night Shift" <night@example.org>`,
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
		"X-Pgsafe-Event":            ev.Kind,
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if want := "[PgSafe] " + ev.Title; subject != want {
		t.Errorf("Subject: %q, want %q", subject, want)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := h.Get("Message-Id"); !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID: %q", id)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := ev.Title + "\r\n\r\n" + ev.Body + "\r\n\r\nDatabase: orders\r\nbackup_id: b-123\r\nstorage: offsite-s3\r\nTime: 2026-11-03 04:05:06 UTC\r\n"
	if string(body) != want {
		t.Errorf("body:\n%q\nwant\n%q", body, want)
	}
}

func sendMail(t *testing.T, settings map[string]string, password string) error {
	t.Helper()
	var secrets map[string]string
	if password != "" {
		secrets = map[string]string{"password": password}
	}
	n := mustNew(t, config(KindEmail, settings, secrets))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := sampleEvent()
	ev.Title = "Backup of orders failed — 3 tries" // not ASCII: Q-encoded subject
	return n.Send(ctx, ev)
}

func TestEmailStartTLSPlainAuth(t *testing.T) {
	ca := newTestCA(t)
	ms := startMailServer(t, modeStartTLS, ca, sasl.Plain, sasl.Login)
	s := ms.settings("starttls")
	s["username"], s["ca_file"] = "pgsafe", ca.file(t)
	if err := sendMail(t, s, ms.pass); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := ms.only(t)
	ev := sampleEvent()
	ev.Title = "Backup of orders failed — 3 tries"
	checkMail(t, m, ev)
	if !m.tls || m.authed != "pgsafe" {
		t.Errorf("mail over TLS %v, authenticated as %q", m.tls, m.authed)
	}
	if len(ms.auths) != 1 || ms.auths[0] != (authAttempt{"PLAIN", "pgsafe", ms.pass, true}) {
		t.Errorf("AUTH = %+v, want one PLAIN over TLS", ms.auths)
	}
}

func TestEmailTLSLoginAuth(t *testing.T) {
	ca := newTestCA(t)
	ms := startMailServer(t, modeTLS, ca, sasl.Login)
	s := ms.settings("tls")
	s["username"], s["ca_file"] = "pgsafe", ca.file(t)
	if err := sendMail(t, s, ms.pass); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := ms.only(t)
	if !m.tls || m.authed != "pgsafe" {
		t.Errorf("mail over TLS %v, authenticated as %q", m.tls, m.authed)
	}
	if len(ms.auths) != 1 || ms.auths[0] != (authAttempt{"LOGIN", "pgsafe", ms.pass, true}) {
		t.Errorf("AUTH = %+v, want one LOGIN over TLS", ms.auths)
	}
}

func TestEmailPlain(t *testing.T) {
	ms := startMailServer(t, modePlain, newTestCA(t), sasl.Plain)
	// No username: no AUTH.
	if err := sendMail(t, ms.settings("none"), ""); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := ms.only(t)
	ev := sampleEvent()
	ev.Title = "Backup of orders failed — 3 tries"
	checkMail(t, m, ev)
	if m.tls || m.authed != "" || len(ms.auths) != 0 {
		t.Errorf("plain mail: tls %v, authed %q, auths %+v", m.tls, m.authed, ms.auths)
	}

	// A password in clear text goes to the local machine only (New refuses
	// it for another host).
	ms = startMailServer(t, modePlain, newTestCA(t), sasl.Plain)
	s := ms.settings("none")
	s["username"] = "pgsafe"
	if err := sendMail(t, s, ms.pass); err != nil {
		t.Fatalf("Send with AUTH to 127.0.0.1: %v", err)
	}
	if m := ms.only(t); m.authed != "pgsafe" || m.tls {
		t.Errorf("authed %q, tls %v", m.authed, m.tls)
	}
}

func TestEmailFailures(t *testing.T) {
	ca := newTestCA(t)

	// Wrong password: the server's refusal, without the password.
	ms := startMailServer(t, modeStartTLS, ca, sasl.Plain)
	s := ms.settings("starttls")
	s["username"], s["ca_file"] = "pgsafe", ca.file(t)
	err := sendMail(t, s, "wrongSECRETpw")
	if err == nil || !strings.Contains(err.Error(), `authenticating as "pgsafe"`) || !strings.Contains(err.Error(), "invalid credentials") ||
		strings.Contains(err.Error(), "wrongSECRETpw") {
		t.Errorf("wrong password: err = %v", err)
	}
	if len(ms.mails) != 0 {
		t.Errorf("a mail was accepted")
	}

	// STARTTLS required but not offered: nothing sent in clear text.
	ms = startMailServer(t, modePlain, ca, sasl.Plain)
	s = ms.settings("starttls")
	s["username"] = "pgsafe"
	err = sendMail(t, s, ms.pass)
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || len(ms.auths) != 0 {
		t.Errorf("no STARTTLS: err = %v, auths %+v", err, ms.auths)
	}

	// A certificate the system does not trust (no ca_file).
	ms = startMailServer(t, modeTLS, ca)
	err = sendMail(t, ms.settings("tls"), "")
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("untrusted certificate: err = %v", err)
	}

	// Nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s = ms.settings("none")
	s["port"] = strconv.Itoa(port)
	err = sendMail(t, s, "")
	if err == nil || !strings.Contains(err.Error(), "connecting to 127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("no server: err = %v", err)
	}
}

// A server that accepts the connection and never speaks: the context ends
// the attempt.
func TestEmailContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	n := mustNew(t, config(KindEmail, map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(l.Addr().(*net.TCPAddr).Port),
		"security": "none", "from": "a@example.com", "to": "b@example.com"}, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = n.Send(ctx, sampleEvent())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("err = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
	}
}
