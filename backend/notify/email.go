package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SMTPTimeout bounds one email delivery (the context may end it sooner).
const SMTPTimeout = 60 * time.Second

// SMTP security modes (setting "security").
const (
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS (required), port 587
	SecurityTLS      = "tls"      // TLS from the first byte ("SMTPS"), port 465
	SecurityNone     = "none"     // no encryption, port 25; no password except to localhost
)

var defaultSMTPPort = map[string]int{SecurityStartTLS: 587, SecurityTLS: 465, SecurityNone: 25}

// email sends a plain-text mail over SMTP (net/smtp).
type email struct {
	host     string
	port     int
	security string
	from     *mail.Address
	to       []*mail.Address
	username string
	password string
	roots    *x509.CertPool // nil: the system's
	red      *redactor
}

func buildEmail(p *params) sender {
	e := &email{red: p.red}
	e.host = p.setting("host", true, "the SMTP server's host name, e.g. smtp.example.com")
	e.security = strings.ToLower(p.setting("security", false, ""))
	if e.security == "" {
		e.security = SecurityStartTLS
	}
	def, ok := defaultSMTPPort[e.security]
	if !ok {
		p.fail("settings.security", fmt.Sprintf("%q is not one of starttls, tls, none", e.security))
	}
	e.port = p.intSetting("port", def, 1, 65535)

	if from := p.setting("from", true, "the sender address, e.g. PgSafe <pgsafe@example.com>"); from != "" {
		a, err := mail.ParseAddress(from)
		if err != nil {
			p.fail("settings.from", fmt.Sprintf("%q is not an email address: %v", from, err))
		}
		e.from = a
	}
	if to := p.setting("to", true, "the recipients, separated by commas"); to != "" {
		list, err := mail.ParseAddressList(to)
		if err != nil {
			p.fail("settings.to", fmt.Sprintf("%q is not a comma-separated list of email addresses: %v", to, err))
		}
		e.to = list
	}

	e.username = p.setting("username", false, "")
	e.password = p.secret("password", false, "")
	switch {
	case e.username != "" && e.password == "":
		p.fail("secrets.password", "missing (the SMTP password of "+strconv.Quote(e.username)+")")
	case e.username == "" && e.password != "":
		p.fail("settings.username", "missing (the SMTP user the password belongs to)")
	case e.username != "" && e.security == SecurityNone && !isLoopback(e.host):
		p.fail("settings.security", `"none" would send the password unencrypted over the network: use starttls or tls`)
	}

	if caFile := p.setting("ca_file", false, ""); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			p.fail("settings.ca_file", fmt.Sprintf("reading the CA certificates: %v", err))
		} else {
			e.roots = x509.NewCertPool()
			if !e.roots.AppendCertsFromPEM(pem) {
				p.fail("settings.ca_file", fmt.Sprintf("%s holds no PEM certificate", caFile))
			}
		}
	}
	return e
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (e *email) send(ctx context.Context, ev Event) error {
	ctx, cancel := context.WithTimeout(ctx, SMTPTimeout)
	defer cancel()
	err := e.deliver(ctx, e.message(ev))
	if err != nil && ctx.Err() != nil {
		// A closed connection's error says less than why it was closed.
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (e *email) deliver(ctx context.Context, msg []byte) error {
	addr := net.JoinHostPort(e.host, strconv.Itoa(e.port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	// The context's end (SMTPTimeout at most) closes the connection, which
	// ends any read or write under way.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	tlsConf := &tls.Config{ServerName: e.host, RootCAs: e.roots, MinVersion: tls.VersionTLS12}
	if e.security == SecurityTLS {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return fmt.Errorf("SMTP greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("EHLO to %s: %w", addr, err)
	}
	if e.security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS: set security to tls for port 465, or none for a server without encryption", addr)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if e.username != "" {
		if err := e.auth(c); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", e.from.Address, err)
	}
	for _, to := range e.to {
		if err := c.Rcpt(to.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("sending the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the server refused the message: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err) // the message was accepted; report anyway
	}
	return nil
}

// auth authenticates with PLAIN, or LOGIN where PLAIN is not offered. Both
// refuse to send the password over an unencrypted connection to another
// host.
func (e *email) auth(c *smtp.Client) error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return fmt.Errorf("the server offers no authentication (AUTH), but username %q is set", e.username)
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	var a smtp.Auth
	switch {
	case slices.Contains(offered, "PLAIN"):
		a = smtp.PlainAuth("", e.username, e.password, e.host)
	case slices.Contains(offered, "LOGIN"):
		a = &loginAuth{username: e.username, password: e.password, host: e.host}
	default:
		return fmt.Errorf("the server offers authentication by %s only; PgSafe speaks PLAIN and LOGIN", mechs)
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("authenticating as %q: %w", e.username, err)
	}
	return nil
}

// loginAuth is the LOGIN mechanism (still the only one some servers offer).
type loginAuth struct{ username, password, host string }

func (a *loginAuth) Start(s *smtp.ServerInfo) (string, []byte, error) {
	if !s.TLS && !isLoopback(s.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if s.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:":
		return []byte(a.username), nil
	case "password:":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", truncate(string(challenge), 40))
}

func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// message is the mail: headers and a quoted-printable UTF-8 text body.
func (e *email) message(ev Event) []byte {
	var b bytes.Buffer
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", e.from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", "[PgSafe] "+oneLine(ev.Title)))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", messageID(e.from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	header("X-PgSafe-Event", mime.QEncoding.Encode("utf-8", oneLine(ev.Kind)))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(plainText(ev)))
	qp.Close()
	return b.Bytes()
}

func messageID(from string) string {
	domain := "pgsafe.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	r := make([]byte, 12)
	rand.Read(r)
	return "<" + strconv.FormatInt(time.Now().UnixNano(), 36) + "." + hex.EncodeToString(r) + "@" + domain + ">"
}
