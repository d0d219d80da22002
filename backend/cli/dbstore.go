package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/pg"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		dbCmd(root).AddCommand(dbAddCmd(env), dbListCmd(env), dbRemoveCmd(env), dbSetCmd(env))
	})
}

func dbAddCmd(env *Env) *cobra.Command {
	var name, url, urlCmd, pwCmd, keyFile string
	var storages, exclude []string
	var noCheck, allowWrite, noCount, asJSON, all bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "add --name NAME (--url URL | --url-command CMD) [--password-command CMD] [--storage S]... [--all-databases [--exclude DB]... [--parallel N]]",
		Short: "Add a database, or a whole server (runs the read-only audit first)",
		Long: "Stores a database's connection, sealed in the settings. First the connection is tested and\n" +
			"the role's privileges audited: warnings are printed and accepted; a role that can change data\n" +
			"is refused unless --allow-write-access is given (and that choice is audited).\n" +
			"The URL is a postgres:// URI or a libpq key=value string; it may carry the password.\n" +
			"--all-databases adds a server entry: each backup lists the server's databases (templates and\n" +
			"--exclude'd ones left out; the URL's database, by default postgres, is the one they are listed\n" +
			"from), audits the role in each and backs each up as NAME/DATABASE, --parallel N at a time.\n" +
			"Credentials that change (failover, IAM tokens, a password manager): --url-command CMD runs CMD\n" +
			"before each connection and uses the URL or key=value settings it prints; --password-command CMD\n" +
			"prints only the password (the URL gives the rest). What they print is used for that connection\n" +
			"only, never stored or logged; the command lines are sealed like passwords. CMD runs without a\n" +
			"shell (write sh -c '…' for pipes), with a 30 s limit, in PgSafe's environment minus PGPASSWORD\n" +
			"and PGSAFE_* (recipes: docs/DATABASES.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || (url == "") == (urlCmd == "") {
				return errors.New("give --name and either --url (postgres://user:password@host:5432/dbname) or --url-command CMD")
			}
			if !all && (len(exclude) > 0 || parallel != 0) {
				return errors.New("--exclude and --parallel are for a whole server: add --all-databases")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			res, err := e.AddDatabase(env.Ctx, engine.DatabaseInput{Name: name, URL: url, URLCommand: urlCmd, PasswordCommand: pwCmd,
				StorageNames: storages, CountRows: !noCount, AllDatabases: all, Exclude: exclude, Parallel: parallel},
				engine.AddOptions{NoCheck: noCheck, AllowWriteAccess: allowWrite})
			var wa *engine.WriteAccessError
			if errors.As(err, &wa) && !asJSON {
				printReport(env.Stderr, name, wa.Report)
				return exitError{code: exitWriteAccess, err: fmt.Errorf("%w (create one with `pgsafe db setup-readonly`, or pass --allow-write-access)", err)}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, res)
			}
			if res.Report != nil {
				if !engine.VerdictOf(*res.Report).Clean {
					printReport(env.Stderr, name, *res.Report)
				}
				fmt.Fprintf(env.Stdout, "added %s (PostgreSQL %s, %s)\n", name, res.Server.Version, res.Report.Verdict)
				if all {
					fmt.Fprintf(env.Stdout, "every database of the server is backed up as %s/DATABASE; each backup audits the role in each\n", name)
				}
			} else {
				fmt.Fprintf(env.Stdout, "added %s (not checked)\n", name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for this database in PgSafe")
	cmd.Flags().StringVar(&url, "url", "", "connection URL or key=value string (read-only credentials)")
	cmd.Flags().StringVar(&urlCmd, "url-command", "", "a command printing the connection URL, run before each connection (never stored: what it prints)")
	cmd.Flags().StringVar(&pwCmd, "password-command", "", "a command printing the password, run before each connection")
	cmd.Flags().StringArrayVar(&storages, "storage", nil, "storage to back up to (repeatable)")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "store without testing the connection or auditing privileges")
	cmd.Flags().BoolVar(&allowWrite, "allow-write-access", false, "accept a role that can change data (audited)")
	cmd.Flags().BoolVar(&noCount, "no-row-counts", false, "leave per-table row counts out of its backups (counting costs no time: they come from the dump stream)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&all, "all-databases", false, "back up every database of the server (a server entry)")
	cmd.Flags().StringArrayVar(&exclude, "exclude", nil, "with --all-databases: a database not to back up (repeatable)")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "with --all-databases: how many databases to dump at once (default 1)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func dbListCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List databases (no secrets printed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			dbs, err := e.Databases(env.Ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, dbs)
			}
			if len(dbs) == 0 {
				fmt.Fprintln(env.Stdout, "no databases yet: add one with `pgsafe db add --name NAME --url URL`")
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCONNECTION\tPASSWORD\tSTORAGES")
			for _, d := range dbs {
				if d.ServerEntry != 0 {
					continue // under its server entry
				}
				pw := "not set"
				switch {
				case d.URLCommand.IsSet(), d.PasswordCommand.IsSet():
					pw = "from command"
				case d.Password.IsSet():
					pw = "set"
				}
				conn := fmt.Sprintf("%s@%s:%d/%s", d.User, d.Host, d.Port, d.DBName)
				if d.URLCommand.IsSet() {
					conn = "from command"
				}
				if d.AllDatabases {
					conn = fmt.Sprintf("%s@%s:%d (all databases", d.User, d.Host, d.Port)
					if len(d.Exclude) > 0 {
						conn += " but " + strings.Join(d.Exclude, ", ")
					}
					if d.Parallel > 1 {
						conn += fmt.Sprintf(", %d at once", d.Parallel)
					}
					conn += ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.Name, conn, pw, len(d.StorageIDs))
				for _, c := range dbs {
					if c.ServerEntry != d.ID {
						continue
					}
					note := ""
					if !c.Gone.IsZero() {
						note = " (no longer on the server; backups kept)"
					}
					fmt.Fprintf(tw, "  %s\tdatabase %s%s\t\t\n", c.Name, c.DBName, note)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func dbRemoveCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a database from PgSafe (its backups stay where they are)",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.RemoveDatabase(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "removed %s\n", args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// checkSaved audits a stored database (db check NAME).
func checkSaved(env *Env, name, keyFile string) (pg.Report, string, error) {
	e, err := openEngine(env, keyFile)
	if err != nil {
		return pg.Report{}, "", err
	}
	defer e.Close()
	res, err := e.CheckDatabase(env.Ctx, name)
	if err != nil {
		return pg.Report{}, "", err
	}
	return res.Report, strings.TrimSpace(name), nil
}
