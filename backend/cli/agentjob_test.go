package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// An error the agent returns gets the same words and advice as the same
// error in the command's own process.
func TestAgentErrorAdvice(t *testing.T) {
	local := []error{
		&engine.NotFoundError{Kind: "db", Name: "shop"},
		&engine.NotFoundError{Kind: "storage", Name: `odd "name"`},
		fmt.Errorf("import backup.pgsafe: %w", &keys.WrongKeyError{}),
		errors.New("back up shop: cannot connect"),
	}
	for _, err := range local {
		remote := remoteError(fmt.Errorf("call: %w", &agent.RemoteError{Message: err.Error()}))
		if remote.Error() != err.Error() && oneLine(remote) != "call: "+err.Error() {
			t.Errorf("%v came back as %q", err, remote)
		}
		if got, want := advice(remote), advice(err); got != want {
			t.Errorf("advice for %v from the agent: %q, want %q", err, got, want)
		}
		if got, want := advice(agentError(err.Error(), errors.New(err.Error()))), advice(err); got != want {
			t.Errorf("advice for a job's %v: %q, want %q", err, got, want)
		}
	}
}
