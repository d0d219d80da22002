package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// Core holds the engine the services share. The app opens it at startup; if
// that fails (no keychain, locked keychain), the services answer with the
// reason and the UI shows how to fix it instead of screens that cannot work.
type Core struct {
	mu   sync.Mutex
	ctx  context.Context
	eng  *engine.Engine
	err  error
	log  *slog.Logger
	emit func(event string, data any)
}

// NewCore returns a core with no engine yet.
func NewCore(log *slog.Logger) *Core {
	if log == nil {
		log = slog.Default()
	}
	return &Core{log: log, emit: func(string, any) {}, err: errStarting}
}

var errStarting = errors.New("PgSafe is still opening its key and settings")

// SetEmitter sets how events reach the frontend (Wails' EventsEmit).
func (c *Core) SetEmitter(emit func(event string, data any)) { c.emit = emit }

// Start opens the engine: the master key (created in the keychain on first
// run) and the settings. It keeps the error for the UI.
// It emits "core:status" (a KeyStatus) when done.
func (c *Core) Start(ctx context.Context) error {
	eng, err := engine.Open(ctx, engine.Options{CreateKey: true, DesktopNotifications: true, Log: c.log})
	c.mu.Lock()
	c.ctx, c.eng, c.err = ctx, eng, err
	c.mu.Unlock()
	if err != nil {
		c.log.Error("PgSafe cannot open its key and settings", "err", err)
	} else if rerr := eng.RecordEvent(ctx, engine.Event{Action: "app.started"}); rerr != nil {
		c.log.Error("audit app start", "err", rerr)
	}
	c.emit("core:status", c.keyStatus())
	return err
}

// Stop closes the engine.
func (c *Core) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng != nil {
		c.eng.RecordEvent(context.Background(), engine.Event{Action: "app.stopped"})
		c.eng.Close()
		c.eng = nil
	}
}

// engine returns the open engine or why there is none.
func (c *Core) engine() (*engine.Engine, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng == nil {
		return nil, fmt.Errorf("PgSafe's key and settings are not open: %w", c.err)
	}
	return c.eng, nil
}

// KeyStatus is what Settings shows about the master key.
type KeyStatus struct {
	Ready  bool   `json:"ready"`
	KeyID  string `json:"keyId,omitempty"`
	Source string `json:"source,omitempty"` // "keychain", "key-file", …
	Error  string `json:"error,omitempty"`  // why it is not ready, and what to do
	// Starting: not ready yet, still opening (wait for the "core:status" event).
	Starting bool `json:"starting,omitempty"`
}

// keyStatus reports the core's key.
func (c *Core) keyStatus() KeyStatus {
	e, err := c.engine()
	if err != nil {
		var ke *keys.KeychainError
		msg := err.Error()
		if errors.As(err, &ke) {
			msg = ke.Error()
		}
		return KeyStatus{Error: msg, Starting: errors.Is(err, errStarting)}
	}
	return KeyStatus{Ready: true, KeyID: e.KeyID().String(), Source: string(e.KeySource().Kind)}
}
