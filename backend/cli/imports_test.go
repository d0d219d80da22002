package cli

import (
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/faceguard"
)

// allowBelowEngine is what the command line may still use from the
// packages below the engine beyond their types. Keep it short: logic goes
// into the engine, and each entry says why it cannot.
//
// backend/ui is not a peer: its functions are the window's services, and a
// command calling them would hold a face's logic again. The CLI uses its
// types (the local API's requests, tickets and events: ui.BackupSource,
// ui.JobTicket, ui.EngineEvent; ui.CoreOptions for agent.Run) like any
// plain type, and by name only the event names the agent's stream carries.
var allowBelowEngine = []faceguard.Allow{
	// The offline tools (issue 14: "The CLI's offline tools (decrypt, key)
	// may keep using format/keys").
	{File: "decrypt.go", Name: "format.*", Why: "`pgsafe decrypt` is an offline tool: it reads a backup file with a key " +
		"or recovery kit and no settings, engine or agent (docs/FORMAT.md's reader, for a machine where PgSafe is not set up)"},
	{File: "decrypt.go", Name: "keys.*", Why: "`pgsafe decrypt` opens the key (this machine's, a key file or a kit) without " +
		"the settings, as an offline tool must"},
	{File: "key.go", Name: "keys.*", Why: "`pgsafe key id|init|export|import` are the offline key tools: they identify, create and " +
		"import the master key before any settings exist (the engine opens only with a key)"},
	{File: "passphrase.go", Name: "keys.*", Why: "terminal handling: a passphrase is read from the terminal without echo (or one " +
		"line of stdin) into keys.Passphrase, the wipeable type the offline key tools and engine.Options.Passphrase " +
		"(keys.PassphraseFunc) take, checked and confirmed as it is typed; it never becomes a string"},
	// Plain data read as such.
	{File: "dbstore.go", Name: "store.Secret.IsSet", Why: "store.Secret is the type a secret travels in through the engine's API; " +
		"it hides its value, and IsSet is its one accessor for what `db list` shows (\"password set\"): a field read, not logic"},
	{File: "progress.go", Name: "backup.PhaseDumping", Why: "terminal handling: the progress line is the terminal's rendering of " +
		"backup.Progress, the type engine.BackupByHand's callback and the agent's job events carry; only the dumping phase has " +
		"bytes to show, and the phase is that type's own value"},
	{File: "agentjob.go", Name: "ui.EventEngine", Why: "the name of the engine's events on the agent's /v1/events stream " +
		"(docs/AGENT.md): the local API's vocabulary, which the CLI reads as a client"},
	{File: "agentjob.go", Name: "ui.EventJobResult", Why: "the name of a job's result on the agent's /v1/events stream " +
		"(docs/AGENT.md): the local API's vocabulary, which the CLI reads as a client"},
}

// The command line is a client of the engine's API (and of the agent's
// local API, backend/agent) and nothing else: from a package below the
// engine it uses types (store.Backup, pg.Report…), never a function, a
// method of a value that is not the engine's, a constant or a variable
// (docs: ARCHITECTURE.md, "The faces hold no logic"). backend/human is a
// peer too: it is how a face words sizes and durations for people (the
// window's format.ts follows the same rules), not logic about backups.
func TestCommandsUseOnlyTheEngine(t *testing.T) {
	uses, err := faceguard.Check(faceguard.Options{Dir: ".", Peers: []string{"backend/engine", "backend/agent", "backend/human"}, Tags: []string{"webkit2_41"}})
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
