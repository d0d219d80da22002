package agent_test

import (
	"io"
	"log/slog"
	"strings"
	"sync"
)

// lockedWriter lets the agent's goroutines and the test share a log.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func slogTo(mu *sync.Mutex, b *strings.Builder) *slog.Logger {
	var w io.Writer = lockedWriter{mu, b}
	return slog.New(slog.NewTextHandler(w, nil))
}
