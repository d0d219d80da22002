package notify

import (
	"context"
	"time"
)

// TestTimeout bounds Test when its context has no deadline.
const TestTimeout = 90 * time.Second

// Test sends TestEvent through n once, now, without retrying, and returns
// the error (nil: delivered) for the "Send test" button. The test event
// passes every event filter.
func Test(ctx context.Context, n Notifier) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, TestTimeout)
		defer cancel()
	}
	return n.Send(ctx, TestEvent(n.Name()))
}
