package cli

import (
	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// keyFileFlag adds --key-file to a command that opens the settings; it names an
// unprotected key file or a recovery kit to use instead of this machine's key
// (PGSAFE_KEY_FILE does the same).
func keyFileFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "key-file", "", "use this key file or recovery kit instead of this machine's key (or set PGSAFE_KEY_FILE)")
}

// openEngine opens PgSafe's settings with this machine's master key. Commands
// never create a key: the app (or `pgsafe key init`) does.
func openEngine(env *Env, keyFile string) (*engine.Engine, error) {
	return engine.Open(env.Ctx, engine.Options{KeyFile: keyFile, Log: env.Log})
}

// withEngine is a command's RunE that opens the engine (with the
// command's --key-file), runs fn with it and closes it.
func withEngine(env *Env, keyFile *string, fn func(e *engine.Engine, args []string) error) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		e, err := openEngine(env, *keyFile)
		if err != nil {
			return err
		}
		defer e.Close()
		return fn(e, args)
	}
}
