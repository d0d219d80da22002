// Package webapi is what the storages that talk to a web service over plain
// HTTP (Dropbox, OneDrive, Google Drive) share: sending a request with a bounded retry of
// rate limits and server errors, and saying in words why a request could not
// reach the service.
package webapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Retry bounds: a request is sent at most Attempts times. A 429 or 503 waits
// what its Retry-After says (at most MaxWait), anything else retryable a
// jittered backoff from Base doubling.
type Retry struct {
	Attempts int
	Base     time.Duration
	MaxWait  time.Duration
	// RateLimited, if set, says that a response Do would otherwise return
	// is a rate limit in the service's own words (Google Drive: a 403 with
	// reason rateLimitExceeded): it is retried like a 429, idempotent or
	// not. It may read resp.Body but must leave it readable from the start.
	RateLimited func(resp *http.Response) bool
}

// DefaultRetry is what the storages use: 5 attempts, waits of at most a
// minute (a rate limit's Retry-After is usually seconds).
var DefaultRetry = Retry{Attempts: 5, Base: 500 * time.Millisecond, MaxWait: time.Minute}

// RequestTimeout bounds one request whose answer is read at once (not a
// download's body), so that a connection that silently stopped answering
// fails the backup instead of hanging it: 8 or 10 MiB go up in 5 minutes
// even at 35 KB/s.
var RequestTimeout = 5 * time.Minute

// Do sends the request newReq builds (a fresh one per attempt, so its body
// can be sent again) and retries, within r's bounds, when the service
// answered 429 (rate limited) or 503, and — only when idempotent — on 500,
// 502, 504 and network errors. The last response is returned as is (its
// status for the caller to read), or the last network error.
func Do(ctx context.Context, c *http.Client, r Retry, idempotent bool, newReq func() (*http.Request, error)) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req.WithContext(ctx))
		switch {
		case err != nil:
			if !idempotent || ctx.Err() != nil || !RetryableNet(err) {
				return nil, err
			}
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		case idempotent && (resp.StatusCode == 500 || resp.StatusCode == 502 || resp.StatusCode == 504):
		case r.RateLimited != nil && r.RateLimited(resp):
		default:
			return resp, nil
		}
		if attempt >= r.Attempts {
			return resp, err
		}
		wait := r.Wait(resp, attempt)
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := Pause(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// Wait is how long to wait before the attempt after attempt (1 for the
// first), which got resp (nil after a network error): what a 429's or
// 503's Retry-After says (at most MaxWait), else a jittered backoff from
// Base doubling.
func (r Retry) Wait(resp *http.Response, attempt int) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(d, r.MaxWait)
		}
	}
	return r.backoff(attempt)
}

// Pause waits d, or until ctx is done (its error).
func Pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r Retry) backoff(attempt int) time.Duration {
	d := min(r.Base<<min(attempt-1, 10), r.MaxWait)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// RetryableNet says a request that failed with err may succeed if sent
// again: the connection was reset, refused or cut, or timed out.
func RetryableNet(err error) bool {
	var netErr net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || (errors.As(err, &netErr) && netErr.Timeout())
}

// NetworkWhy says why a request to service (e.g. "Dropbox") got no answer,
// or returns nil when err is not a network failure (or a cancellation).
func NetworkWhy(err error, service string) error {
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		record  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s did not answer in time (the connection may have stopped silently): check the network connection, and try again", service)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot find %s on the network (the host name %s is unknown): check the network connection", service, dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s refused the connection: check the network connection (a proxy or firewall may block it), and try again later", service)
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host), errors.As(err, &record):
		return fmt.Errorf("the connection to %s is not trusted (its certificate does not check out; a proxy may be intercepting it): check the network connection", service)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("the connection to %s was lost: check the network connection, and try again", service)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%s did not answer in time: check the network connection, and try again", service)
	case errors.As(err, new(*net.OpError)):
		return fmt.Errorf("cannot reach %s: check the network connection", service)
	}
	return nil
}

// Inner drops the *url.Error ("Post \"https://…\": ") around an error that
// is not the network's — the sign-in's, say, which the client's token
// source returned — so that its own words come first.
func Inner(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && NetworkWhy(err, "") == nil && !ue.Timeout() {
		return ue.Err
	}
	return err
}
