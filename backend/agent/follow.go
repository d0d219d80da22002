package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Stream is a face's subscription to the agent's event stream (Follow).
type Stream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

// Follow subscribes to the agent's event stream and returns once the agent
// counts this face among its subscribers, so a face that then starts a job
// reads every event of it. Next reads the events in order; Close (or ctx's
// end) unsubscribes.
func (c *Client) Follow(ctx context.Context) (*Stream, error) { return c.follow(ctx, false) }

// FollowAsWindow is Follow for a window: the agent counts it among the open
// windows (ServerOptions.OnWindows).
func (c *Client) FollowAsWindow(ctx context.Context) (*Stream, error) { return c.follow(ctx, true) }

func (c *Client) follow(ctx context.Context, window bool) (*Stream, error) {
	u := apiURL("events")
	if window {
		u += "?face=window"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req) // the agent answers once it has subscribed this face
	if err != nil {
		return nil, unwrapURLError(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, decode(resp, nil)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &Stream{resp: resp, sc: sc}, nil
}

// ErrStreamEnded: the agent closed the event stream (it is stopping, or this
// face fell behind and was cut off).
var ErrStreamEnded = errors.New("the agent closed its event stream")

// Next is the next event; it fails with ErrStreamEnded when the agent ends
// the stream.
func (s *Stream) Next() (Event, error) {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return Event{}, fmt.Errorf("the agent's event stream broke: %w", err)
		}
		return Event{}, ErrStreamEnded
	}
	var ev Event
	if err := json.Unmarshal(s.sc.Bytes(), &ev); err != nil {
		return Event{}, fmt.Errorf("the agent sent an event that does not decode: %w", err)
	}
	return ev, nil
}

// Close unsubscribes.
func (s *Stream) Close() error { return s.resp.Body.Close() }
