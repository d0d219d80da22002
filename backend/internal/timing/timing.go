// Package timing logs, at debug level, how long each phase of a piece of work
// took: where a backup's fixed cost goes (docs/BENCHMARKS.md). Run a command
// with PGSAFE_LOG=debug to see the lines.
package timing

import (
	"context"
	"log/slog"
	"time"
)

// Phases times the consecutive phases of one piece of work.
type Phases struct {
	log         *slog.Logger
	what        string
	attrs       []any
	start, last time.Time
}

// Start begins timing what (say "backup"); attrs are logged with every line.
func Start(log *slog.Logger, what string, attrs ...any) *Phases {
	now := time.Now()
	return &Phases{log: log, what: what, attrs: attrs, start: now, last: now}
}

// Done logs the phase that just ended and how long it took since the previous
// one ended (or since Start).
func (p *Phases) Done(phase string) {
	if !p.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	now := time.Now()
	p.log.Debug(p.what+" phase", append([]any{"phase", phase, "took", now.Sub(p.last).Round(time.Microsecond)}, p.attrs...)...)
	p.last = now
}

// End logs the whole work's duration.
func (p *Phases) End() {
	if !p.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	p.log.Debug(p.what+" took", append([]any{"took", time.Since(p.start).Round(time.Microsecond)}, p.attrs...)...)
}
