package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
)

// HTTPTimeout bounds one HTTP call of a chat or webhook notifier (the
// context may end it sooner).
const HTTPTimeout = 30 * time.Second

// StatusError is a non-2xx answer from a chat service or webhook.
type StatusError struct {
	Code   int    // e.g. 500
	Status string // e.g. "500 Internal Server Error"
	Body   string // the start of the answer, on one line, secrets hidden
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return "HTTP " + e.Status
	}
	return "HTTP " + e.Status + ": " + e.Body
}

// httpClient does not follow redirects: a redirect would carry the payload
// (and secret headers) elsewhere; it shows as a 3xx StatusError instead.
var httpClient = &http.Client{
	Timeout:       HTTPTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

const (
	maxAnswer  = 64 << 10 // bytes of an answer read
	maxExcerpt = 200      // runes of an answer quoted in an error
)

// postJSON sends v as JSON and returns the answer's body.
func postJSON(ctx context.Context, red *redactor, rawURL string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	return doHTTP(ctx, red, http.MethodPost, rawURL, h, body)
}

// doHTTP makes one request and returns the answer's body when its status is
// 2xx, else a *StatusError. Errors never quote the URL: only its host.
func doHTTP(ctx context.Context, red *redactor, method, rawURL string, h http.Header, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", withoutURL(err))
	}
	if h != nil {
		req.Header = h.Clone()
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "PgSafe/"+buildinfo.Version)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s to %s: %w", method, req.URL.Host, withoutURL(err))
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Code: resp.StatusCode, Status: resp.Status, Body: excerpt(red, data)}
	}
	if readErr != nil {
		return nil, fmt.Errorf("reading the answer from %s: %w", req.URL.Host, withoutURL(readErr))
	}
	return data, nil
}

// withoutURL drops the URL a *url.Error quotes (it may hold a token).
func withoutURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// excerpt is the start of an answer on one line, with secrets hidden.
func excerpt(red *redactor, data []byte) string {
	s := strings.ToValidUTF8(string(data), "?")
	return truncate(red.string(oneLine(s)), maxExcerpt)
}

// checkURL validates an http(s) URL. A secret URL is not quoted in the
// problem.
func checkURL(p *params, field, raw string, secret bool) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return
	}
	if secret {
		p.fail(field, "not an http:// or https:// URL")
	} else {
		p.fail(field, fmt.Sprintf("%q is not an http:// or https:// URL", raw))
	}
}

// symbol marks an event's severity at the start of a chat message.
func symbol(ev Event) string {
	switch ev.severity() {
	case sevProblem:
		return "❌"
	case sevWarning:
		return "⚠️"
	case sevOK:
		return "✅"
	default:
		return "ℹ️"
	}
}

// colour is an event's severity as an RGB value (Discord, Teams, Slack).
func colour(ev Event) int {
	switch ev.severity() {
	case sevProblem:
		return 0xD93F0B
	case sevWarning:
		return 0xE8A317
	case sevOK:
		return 0x2EA043
	default:
		return 0x336791
	}
}
