package ui

import (
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/faceguard"
)

// allowBelowEngine is what the window's services may still use from the
// packages below the engine beyond their types. Keep it short: logic goes
// into the engine, and each entry says why it cannot.
var allowBelowEngine = []faceguard.Allow{
	{Name: "store.Secret.IsSet", Why: "store.Secret is the type a secret travels in through the engine's API; " +
		"it hides its value, and IsSet is its one accessor for what the views show (\"password set\"): a field read, not logic"},
	{File: "tray.go", Name: "autostart.*", Why: "start at login (SystemService.StartAtLogin/SetStartAtLogin) belongs to the agent's " +
		"service definition (package autostart writes the systemd unit, LaunchAgent or Run key that starts the agent), not the engine"},
}

// The window's services are clients of the engine's API and nothing else:
// from a package below the engine they use types (store.Backup,
// pg.Candidate…), never a function, a method of a value that is not the
// engine's, a constant or a variable (docs: ARCHITECTURE.md, "The faces
// hold no logic").
func TestServicesUseOnlyTheEngine(t *testing.T) {
	uses, err := faceguard.Check(faceguard.Options{Dir: ".", Peers: []string{"backend/engine"}})
	if err != nil {
		t.Fatal(err)
	}
	denied, stale := faceguard.Sort(uses, allowBelowEngine)
	for _, u := range denied {
		t.Errorf("%s: logic below the engine in a face: move it into backend/engine", u)
	}
	for _, a := range stale {
		t.Errorf("allowBelowEngine lets %s %s, which no file uses any more: delete the entry", a.File, a.Name)
	}
}
