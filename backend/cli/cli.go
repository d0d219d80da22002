// Package cli is PgSafe's headless face: the `pgsafe <subcommand>` command
// line described in docs/CLI.md (the contract in shared/CLI.md). It works
// without a display and holds no logic of its own beyond parsing arguments,
// the terminal and printing results: the work is done by the engine, in this
// process or in PgSafe's agent through its local API (backend/agent). From
// the packages below the engine it uses types only, except the offline tools
// `decrypt` and `key` (TestCommandsUseOnlyTheEngine and its allowlist).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Env is what a command needs from the process: its streams and context.
// Tests build one with buffers.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

// registrars add command groups to the root; each file of this package that
// defines commands appends to it from an init function.
var registrars []func(root *cobra.Command, env *Env)

func register(f func(root *cobra.Command, env *Env)) { registrars = append(registrars, f) }

// IsCommand reports whether args (os.Args[1:]) ask for the command line rather
// than the desktop app. No arguments, "app", and the flags Wails passes to a
// dev build (-assetdir, -devserver, …) open the app.
func IsCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	a := args[0]
	switch a {
	case "app":
		return false
	case "-h", "--help", "help", "-v", "--version":
		return true
	}
	return !strings.HasPrefix(a, "-")
}

// Run executes the command line and returns the process exit code. Errors are
// printed as one line on stderr, prefixed "pgsafe: ".
func Run(env *Env, args []string) int {
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Log == nil {
		env.Log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	}
	root := newRoot(env)
	root.SetArgs(args)
	if err := root.ExecuteContext(env.Ctx); err != nil {
		fmt.Fprintf(env.Stderr, "pgsafe: %s\n", oneLine(err))
		if a := advice(err); a != "" {
			fmt.Fprintf(env.Stderr, "pgsafe: %s\n", a)
		}
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "pgsafe",
		Short: "PgSafe keeps PostgreSQL databases safely backed up",
		Long: "PgSafe keeps PostgreSQL databases safely backed up.\n\n" +
			"Run without arguments (or `pgsafe app`) to open the desktop app; the\n" +
			"commands below work headless, against the same settings and keychain.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Bare `pgsafe` opens the app and never reaches here; `pgsafe --version`
		// is answered like `pgsafe version`.
		Version: "",
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(&cobra.Command{
		Use:   "app",
		Short: "Open the desktop app (the same as running pgsafe without arguments)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("the desktop app is opened by the pgsafe binary itself, not from a nested command")
		},
	})
	for _, r := range registrars {
		r(root, env)
	}
	return root
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// logLevel is what the command logs on stderr: warnings and errors, or more
// with PGSAFE_LOG=debug|info (debug shows how long each phase of a backup
// took).
func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("PGSAFE_LOG"))); err != nil || l > slog.LevelWarn {
		return slog.LevelWarn
	}
	return l
}
