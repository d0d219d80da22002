package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

func dbSetCmd(env *Env) *cobra.Command {
	var keyFile, timeout, rename, url, urlCmd, pwCmd string
	var storages, exclude []string
	var rowCounts, passwordStdin, allowWrite, noPwCmd bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "set NAME [--rename NEW] [--url URL | --url-command CMD | --password-stdin] [--password-command CMD | --no-password-command] [--row-counts=BOOL] [--storage S]... [--exclude DB]... [--parallel N] [--timeout DURATION]",
		Short: "Change a database: its connection, name, row counts, storages, time limit per backup",
		Long: "--url replaces how the database is reached (a postgres:// URI or key=value string); a URL\n" +
			"without a password keeps the stored one. --password-stdin reads a new password from the\n" +
			"first line of stdin and keeps the rest of the connection. --url-command CMD has the connection\n" +
			"printed by CMD before each connection instead; --password-command CMD only the password\n" +
			"(--no-password-command stops that; give --password-stdin or a URL with the password then).\n" +
			"A stored password command is kept by --url and --url-command. A changed connection is tested and\n" +
			"the role's privileges audited first, as `db add` does: a connection that fails changes\n" +
			"nothing, and a role that can change data is refused (exit 3) unless --allow-write-access is\n" +
			"given (audited). --rename gives it a new name; its schedule, history and policies follow.\n" +
			"--row-counts=false leaves the per-table row counts out of its backups (they are read from the\n" +
			"dump as it streams and cost no time; drills compare them with the restored rows).\n" +
			"--storage (repeatable) sets where its backups go. For a server entry, --exclude (repeatable)\n" +
			"sets the databases it skips and --parallel N how many it dumps at once. --timeout stops a backup of this database\n" +
			"that runs longer (e.g. 2h, 90m; 0 for no limit): it fails, saying so, and nothing of it is kept.\n" +
			"Every change is audited with the names of the changed fields, never their values.",
		Args: cobra.ExactArgs(1),
	}
	cmd.RunE = withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
		name := args[0]
		fl := cmd.Flags()
		var edit engine.DatabaseEdit
		edit.Name = rename
		if fl.Changed("row-counts") {
			edit.CountRows = &rowCounts
		}
		if fl.Changed("storage") {
			edit.Storages = &storages
		}
		if fl.Changed("exclude") {
			exclude = slices.DeleteFunc(exclude, func(s string) bool { return s == "" }) // --exclude= : none
			edit.Exclude = &exclude
		}
		if fl.Changed("parallel") {
			edit.Parallel = &parallel
		}
		conn, err := connectionEdit(env, e, name, connFlags{url: url, urlCmd: urlCmd, pwCmd: pwCmd, noPwCmd: noPwCmd, passwordStdin: passwordStdin})
		if err != nil {
			return err
		}
		edit.Connection = conn
		if !fl.Changed("timeout") && edit == (engine.DatabaseEdit{}) {
			return errors.New("give what to change: --rename, --url, --url-command, --password-command, --password-stdin, --row-counts, --storage, --exclude, --parallel or --timeout")
		}
		if edit != (engine.DatabaseEdit{}) {
			res, err := e.UpdateDatabase(env.Ctx, name, edit, engine.EditOptions{AllowWriteAccess: allowWrite})
			var wa *engine.WriteAccessError
			if errors.As(err, &wa) {
				printReport(env.Stderr, name, wa.Report)
				return exitError{code: exitWriteAccess, err: fmt.Errorf("%w (create one with `pgsafe db setup-readonly`, or pass --allow-write-access)", err)}
			}
			if err != nil {
				return err
			}
			if res.Report != nil && !engine.VerdictOf(*res.Report).Clean {
				printReport(env.Stderr, res.Name, *res.Report)
			}
			printEdit(env, res)
			name = res.Name
		}
		if fl.Changed("timeout") {
			return setTimeout(env, e, name, timeout)
		}
		return nil
	})
	f := cmd.Flags()
	f.StringVar(&rename, "rename", "", "a new name for this database in PgSafe")
	f.StringVar(&url, "url", "", "a new connection URL or key=value string (read-only credentials; no password: keep the stored one)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read a new password from the first line of stdin")
	f.StringVar(&urlCmd, "url-command", "", "a command printing the connection URL, run before each connection")
	f.StringVar(&pwCmd, "password-command", "", "a command printing the password, run before each connection")
	f.BoolVar(&noPwCmd, "no-password-command", false, "stop running the stored password command")
	f.BoolVar(&allowWrite, "allow-write-access", false, "accept a role that can change data (audited)")
	f.BoolVar(&rowCounts, "row-counts", true, "count rows per table at backup time")
	f.StringArrayVar(&storages, "storage", nil, "storage to back up to (repeatable; replaces the list)")
	f.StringVar(&timeout, "timeout", "", "time limit per backup, e.g. 2h (0: none)")
	f.StringArrayVar(&exclude, "exclude", nil, "a server entry's database not to back up (repeatable; replaces the list; --exclude= for none)")
	f.IntVar(&parallel, "parallel", 1, "how many of a server entry's databases to dump at once")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// connFlags are db set's connection flags.
type connFlags struct {
	url, urlCmd, pwCmd     string
	noPwCmd, passwordStdin bool
}

// connectionEdit is the connection change db set's flags ask for (nil:
// none): what they leave unsaid is kept, credentials commands included.
func connectionEdit(env *Env, e *engine.Engine, name string, f connFlags) (*engine.DatabaseInput, error) {
	switch {
	case f.url == "" && f.urlCmd == "" && f.pwCmd == "" && !f.noPwCmd && !f.passwordStdin:
		return nil, nil
	case f.url != "" && f.urlCmd != "":
		return nil, errors.New("give either --url or --url-command")
	case f.url != "" && f.passwordStdin:
		return nil, errors.New("give either --url or --password-stdin: a password goes in the URL")
	case f.pwCmd != "" && (f.noPwCmd || f.passwordStdin):
		return nil, errors.New("give either --password-command or --password-stdin / --no-password-command")
	}
	in, err := storedConnection(env, e, name)
	if err != nil {
		return nil, err
	}
	switch {
	case f.url != "":
		in = engine.DatabaseInput{URL: f.url, UsePasswordCommand: in.UsePasswordCommand}
	case f.urlCmd != "":
		in = engine.DatabaseInput{URLCommand: f.urlCmd, UseURLCommand: true, UsePasswordCommand: in.UsePasswordCommand, SSH: in.SSH}
	case f.passwordStdin && in.UseURLCommand:
		return nil, fmt.Errorf("%s's connection comes from its credentials command: have the command print the new password, or give --url", name)
	}
	if f.passwordStdin {
		pw, err := readPasswordLine(env.Stdin)
		if err != nil {
			return nil, err
		}
		in.Password, in.UsePasswordCommand = pw, false
	}
	if f.pwCmd != "" {
		in.PasswordCommand, in.UsePasswordCommand = f.pwCmd, true
	}
	if f.noPwCmd {
		in.UsePasswordCommand = false
	}
	return &in, nil
}

// storedConnection is the named database's stored connection as input:
// its secrets withheld, so that an edit keeps them (credentials commands
// too).
func storedConnection(env *Env, e *engine.Engine, name string) (engine.DatabaseInput, error) {
	dbs, err := e.Databases(env.Ctx)
	if err != nil {
		return engine.DatabaseInput{}, err
	}
	for _, d := range dbs {
		if d.Name == name || strings.EqualFold(d.Name, name) {
			return engine.InputOf(d), nil
		}
	}
	// The engine's own message (and exit code) for a name it does not know.
	_, err = e.UpdateDatabase(env.Ctx, name, engine.DatabaseEdit{}, engine.EditOptions{})
	return engine.DatabaseInput{}, err
}

func printEdit(env *Env, res *engine.EditResult) {
	if len(res.Changed) == 0 {
		fmt.Fprintf(env.Stdout, "%s: nothing changed\n", res.Name)
		return
	}
	line := fmt.Sprintf("%s: changed %s", res.Name, strings.Join(res.Changed, ", "))
	if res.Report != nil {
		line += fmt.Sprintf(" (connection tested; role %s)", engine.VerdictOf(*res.Report).Words)
	}
	fmt.Fprintln(env.Stdout, line)
}

// setTimeout is --timeout.
func setTimeout(env *Env, e *engine.Engine, name, timeout string) error {
	limit := time.Duration(0)
	if timeout != "0" {
		d, err := time.ParseDuration(timeout)
		if err != nil {
			return fmt.Errorf("--timeout %q: give a duration such as 2h or 90m, or 0 for no limit", timeout)
		}
		limit = d
	}
	if err := e.SetBackupTimeout(env.Ctx, name, limit); err != nil {
		return err
	}
	if limit == 0 {
		fmt.Fprintf(env.Stdout, "%s: backups have no time limit\n", name)
	} else {
		fmt.Fprintf(env.Stdout, "%s: a backup running longer than %s is stopped\n", name, limit)
	}
	return nil
}
