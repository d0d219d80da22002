package engine

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/pgsafe/pgsafe/backend/store"
)

// Small per-database policies (drills, connection checks) are JSON app
// settings keyed by the database's id, sealed like every setting.

// dbID resolves a database's name to its id.
func (e *Engine) dbID(ctx context.Context, name string) (int64, error) {
	d, err := e.store.DatabaseByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, notFound("db", name)
	}
	return d.ID, err
}

// loadJSON reads the setting key into v; a missing setting leaves v as is.
func (e *Engine) loadJSON(ctx context.Context, key string, v any) error {
	raw, err := e.store.Setting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return json.Unmarshal([]byte(raw), v)
}

// saveJSON stores v under key and reports whether it changed.
func (e *Engine) saveJSON(ctx context.Context, key string, v any) (bool, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	return e.store.SetSetting(ctx, key, string(raw))
}
