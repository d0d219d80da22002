package engine

import "context"

type jobStartedKey struct{}

// WithJobStarted has fn told the ID of the backup started under ctx, before
// its job.started event: a face that starts a backup in the background
// learns which job of the event stream is its own. fn runs on the job's
// goroutine and must return quickly.
func WithJobStarted(ctx context.Context, fn func(jobID string)) context.Context {
	return context.WithValue(ctx, jobStartedKey{}, fn)
}

// jobStarted tells the WithJobStarted function of ctx, if any.
func jobStarted(ctx context.Context, jobID string) {
	if fn, ok := ctx.Value(jobStartedKey{}).(func(string)); ok && fn != nil {
		fn(jobID)
	}
}
