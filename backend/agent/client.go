package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"
)

// Client talks to the agent of one settings directory over its endpoint.
type Client struct {
	home string
	hc   *http.Client
}

// ErrNotRunning: no agent answers for the settings directory.
var ErrNotRunning = errors.New("PgSafe's agent is not running")

// RemoteError is the error a served method returned, as the agent worded
// it for the user.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return e.Message }

// NewClient returns a client for the agent of home (it does not connect
// until a call).
func NewClient(home string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx, home)
			if err != nil && notRunning(err) {
				return nil, fmt.Errorf("%w (%s): %v", ErrNotRunning, SocketPath(home), err)
			}
			return c, err
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{home: home, hc: &http.Client{Transport: tr}}
}

// Close drops the client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// url is the API path p on the endpoint (the host is a placeholder: the
// transport dials the socket or pipe).
func apiURL(p string) string { return fmt.Sprintf("http://pgsafe-agent/v%d/%s", APIVersion, p) }

// Hello asks who answers; it fails with ErrNotRunning when no agent does,
// and says so when an agent of another API version does.
func (c *Client) Hello(ctx context.Context) (Hello, error) {
	var h Hello
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL("hello"), nil)
	if err != nil {
		return h, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return h, unwrapURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return h, fmt.Errorf("the PgSafe agent running for %s speaks another version of its API: quit PgSafe from its tray icon (or run `pgsafe agent stop`) and start it again", c.home)
	}
	if err := decode(resp, &h); err != nil {
		return h, err
	}
	if h.API != APIVersion {
		return h, fmt.Errorf("the PgSafe agent running for %s speaks API version %d, this PgSafe %d: quit PgSafe from its tray icon (or run `pgsafe agent stop`) and start it again", c.home, h.API, APIVersion)
	}
	return h, nil
}

// CallRaw calls a served method ("BackupService.Start") with its arguments
// already encoded, and returns its result as the agent encoded it (null when
// it has none). A method's own error comes back as a *RemoteError.
func (c *Client) CallRaw(ctx context.Context, method string, args []json.RawMessage) (json.RawMessage, error) {
	if args == nil {
		args = []json.RawMessage{}
	}
	body, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL("call/"+method), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	var out callResult
	if err := decode(resp, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if out.Error != nil {
		return nil, &RemoteError{Message: *out.Error}
	}
	if out.Result == nil {
		return json.RawMessage("null"), nil
	}
	return out.Result, nil
}

// Call calls a served method with args and decodes its result into result
// (nil: the result is dropped).
func (c *Client) Call(ctx context.Context, method string, result any, args ...any) error {
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("%s: argument %d: %w", method, i+1, err)
		}
		raw[i] = b
	}
	out, err := c.CallRaw(ctx, method, raw)
	if err != nil || result == nil {
		return err
	}
	return json.Unmarshal(out, result)
}

// Events follows the agent's event stream, calling fn for each event in
// order, until ctx ends (it returns nil) or the agent goes (an error). As a
// window, the agent counts it among the open windows.
func (c *Client) Events(ctx context.Context, window bool, fn func(Event)) error {
	st, err := c.follow(ctx, window)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer st.Close()
	for {
		ev, err := st.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fn(ev)
	}
}

// Quit asks the agent to stop: it starts no new work, lets a backup in
// flight finish (for its grace period) and exits.
func (c *Client) Quit(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL("quit"), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the agent refused to stop: %s", resp.Status)
	}
	return nil
}

// decode reads a JSON answer, or turns a protocol error into an error.
func decode(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the agent answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if v == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("the agent's answer does not decode: %w", err)
	}
	return nil
}

// unwrapURLError drops net/http's "Post \"http://pgsafe-agent/…\":" wrapper,
// which says nothing to a user.
func unwrapURLError(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
