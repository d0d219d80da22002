package update

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Options say which feed a Checker reads and what it may say about this
// build: nothing but Version and OS.
type Options struct {
	// Feed is the feed's https URL ("": this build does not check).
	Feed string
	// Version is the running build's version; OS its GOOS.
	Version, OS string
	// RootCAs are the certificates the feed's server must chain to (nil:
	// the system's).
	RootCAs *x509.CertPool
	// Timeout bounds the whole request (0: 30 s).
	Timeout time.Duration
	// MaxBytes is the largest feed read (0: MaxFeedBytes).
	MaxBytes int64
}

// DefaultTimeout bounds a check when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxRedirects a check follows, each to an https URL.
const maxRedirects = 5

// Checker reads the update feed.
type Checker struct {
	opts   Options
	feed   *url.URL
	client *http.Client
}

// Result is what a check found.
type Result struct {
	// Latest is the feed's release.
	Latest Release
	// Newer: Latest is offered to this build (Offered).
	Newer bool
}

// NewChecker returns a checker of o.Feed, which must be an https URL.
func NewChecker(o Options) (*Checker, error) {
	if o.Feed == "" {
		return nil, errors.New("this build has no update feed")
	}
	u, err := url.Parse(o.Feed)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("the update feed %q is not an https:// address", human(o.Feed))
	}
	if o.Version == "" || o.OS == "" {
		return nil, errors.New("an update check needs this build's version and OS")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = MaxFeedBytes
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	tr.DisableCompression = true // no Accept-Encoding: the request says no more than it must
	tr.MaxIdleConns, tr.IdleConnTimeout = 1, 30*time.Second
	client := &http.Client{
		Transport: tr,
		// No Jar: no cookies are kept or sent.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return fmt.Errorf("the update server sent PgSafe to %s://%s, which is not https", req.URL.Scheme, req.URL.Host)
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("the update server redirected more than %d times", maxRedirects)
			}
			return nil
		},
	}
	return &Checker{opts: o, feed: u, client: client}, nil
}

// URL is the address a check requests: the feed with v=<version>&os=<OS>.
func (c *Checker) URL() string {
	u := *c.feed
	q := u.Query()
	q.Set("v", c.opts.Version)
	q.Set("os", c.opts.OS)
	u.RawQuery = q.Encode()
	return u.String()
}

// UserAgent is the User-Agent a check sends: "PgSafe/<version> (<OS>)".
func (c *Checker) UserAgent() string {
	return "PgSafe/" + c.opts.Version + " (" + c.opts.OS + ")"
}

// Check does one GET of the feed and says whether its release is newer
// than this build. The request carries the version and OS (URL, UserAgent)
// and nothing else; the errors are worded for the user.
func (c *Checker) Check(ctx context.Context) (Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.Timeout, errTimedOut)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(), nil)
	if err != nil {
		return Result{}, err
	}
	req.Header = http.Header{"User-Agent": {c.UserAgent()}, "Accept": {"application/json"}}
	resp, err := c.client.Do(req)
	if err != nil {
		return Result{}, c.describe(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("%s answered %s", c.feed.Host, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBytes+1))
	if err != nil {
		return Result{}, c.describe(ctx, err)
	}
	if int64(len(body)) > c.opts.MaxBytes {
		return Result{}, fmt.Errorf("%w: it is larger than %d KiB", ErrInvalidFeed, c.opts.MaxBytes>>10)
	}
	rel, err := ParseFeed(body)
	if err != nil {
		return Result{}, err
	}
	newer, err := Offered(c.opts.Version, rel.Version)
	if err != nil {
		return Result{}, err
	}
	return Result{Latest: rel, Newer: newer}, nil
}

var errTimedOut = errors.New("timed out")

// describe words a failed request: which host, and why, without the query.
func (c *Checker) describe(ctx context.Context, err error) error {
	host := c.feed.Host
	if errors.Is(context.Cause(ctx), errTimedOut) {
		return fmt.Errorf("%s did not answer within %s", host, c.opts.Timeout.Round(time.Millisecond))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the check of %s was cancelled", host)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var dns *net.DNSError
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &hostname):
		return fmt.Errorf("%s's certificate is not trusted: %v", host, err)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot find %s (no network, or the name does not resolve)", dns.Name)
	}
	return fmt.Errorf("cannot reach %s: %v", host, err)
}

// OS is the OS the checker says it runs on.
func (c *Checker) OS() string { return c.opts.OS }
