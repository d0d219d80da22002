package engine

import (
	"context"
	"encoding/json"
	"maps"
	"sync"

	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// toolVersionsSetting remembers, in the settings database, what each pg_dump
// found said its version was (pgtools.KnownVersions, as JSON), so that a
// backup does not run every install's `pg_dump --version` again: a process
// each, on every backup (docs/BENCHMARKS.md). A program replaced by an
// upgrade has another stamp (size, modification time) and is run again.
const toolVersionsSetting = "pgtools.versions"

// knownTools is the engine's copy of toolVersionsSetting, read on the first
// use.
type knownTools struct {
	mu     sync.Mutex
	loaded bool
	known  pgtools.KnownVersions
}

// clients are the pg_dump installs of this machine, the user's folder first.
func (e *Engine) clients(ctx context.Context) []pgtools.Install {
	var extra []string
	if dir, err := e.store.Setting(ctx, "pgtools.dir"); err == nil && dir != "" {
		extra = append(extra, dir)
	}
	e.tools.mu.Lock()
	defer e.tools.mu.Unlock()
	if !e.tools.loaded {
		e.tools.loaded = true
		// None yet, or unreadable: every pg_dump is run once more.
		if v, err := e.store.Setting(ctx, toolVersionsSetting); err == nil {
			if err := json.Unmarshal([]byte(v), &e.tools.known); err != nil {
				e.log.Warn("the remembered pg_dump versions are unreadable: asking each pg_dump again", "err", err)
			}
		}
	}
	ins, found := pgtools.DiscoverKnown(ctx, e.tools.known, extra...)
	if maps.Equal(found, e.tools.known) {
		return ins
	}
	e.tools.known = found
	data, err := json.Marshal(found)
	if err == nil {
		_, err = e.store.SetSetting(context.WithoutCancel(ctx), toolVersionsSetting, string(data))
	}
	if err != nil { // the next backup asks them again
		e.log.Warn("remember the pg_dump versions", "err", err)
	}
	return ins
}
