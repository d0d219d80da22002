//go:build !headless && bindings

package main

import (
	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/ui"
)

// bound, when `wails generate module` builds this binary (tag bindings),
// also lists the services the agent serves, so that the frontend's
// TypeScript wrappers and models are generated from their Go types. At run
// time those calls go to the agent (bind.go).
func bound(app *App) []any {
	return append([]any{app}, agent.Services(ui.NewCore(nil))...)
}
