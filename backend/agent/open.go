package agent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pgsafe/pgsafe/backend/ui"
)

// WaitOpen returns the agent's key status once the agent is no longer
// opening its key and settings (an agent that has just started still is):
// Ready, or why it is not. It subscribes to the event stream before it asks,
// so the "core:status" event that says the opening is done cannot be missed.
func (c *Client) WaitOpen(ctx context.Context) (ui.KeyStatus, error) {
	var ks ui.KeyStatus
	s, err := c.Follow(ctx)
	if err != nil {
		return ks, err
	}
	defer s.Close()
	if err := c.Call(ctx, "SystemService.KeyStatus", &ks); err != nil {
		return ks, err
	}
	for ks.Starting {
		ev, err := s.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ks, ctx.Err()
			}
			return ks, fmt.Errorf("PgSafe's agent stopped as it opened its key and settings: %w", err)
		}
		if ev.Name == "core:status" {
			// A fresh value: the event leaves out fields that are now
			// false, Starting among them.
			var next ui.KeyStatus
			if err := json.Unmarshal(ev.Data, &next); err != nil {
				return ks, fmt.Errorf("the agent's key status: %w", err)
			}
			ks = next
		}
	}
	return ks, nil
}
