//go:build !headless && !bindings

package main

// bound is what the frontend's bindings reach in this process: the window
// (App). Its calls to the services of package ui go through App.Call to the
// agent (frontend/src/bridge.ts).
func bound(app *App) []any { return []any{app} }
