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
	var name, url, keyFile string
	var storages []string
	var noCheck, allowWrite, noCount, asJSON bool
	cmd := &cobra.Command{
		Use:   "add --name NAME --url URL [--storage S]...",
		Short: "Add a database (runs the read-only audit first)",
		Long: "Stores a database's connection, sealed in the settings. First the connection is tested and\n" +
			"the role's privileges audited: warnings are printed and accepted; a role that can change data\n" +
			"is refused unless --allow-write-access is given (and that choice is audited).\n" +
			"The URL is a postgres:// URI or a libpq key=value string; it may carry the password.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || url == "" {
				return errors.New("give --name and --url (postgres://user:password@host:5432/dbname)")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			res, err := e.AddDatabase(env.Ctx, engine.DatabaseInput{Name: name, URL: url, StorageNames: storages, CountRows: !noCount},
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
			} else {
				fmt.Fprintf(env.Stdout, "added %s (not checked)\n", name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for this database in PgSafe")
	cmd.Flags().StringVar(&url, "url", "", "connection URL or key=value string (read-only credentials)")
	cmd.Flags().StringArrayVar(&storages, "storage", nil, "storage to back up to (repeatable)")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "store without testing the connection or auditing privileges")
	cmd.Flags().BoolVar(&allowWrite, "allow-write-access", false, "accept a role that can change data (audited)")
	cmd.Flags().BoolVar(&noCount, "no-row-counts", false, "do not count rows per table at backup time (very large tables)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
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
				pw := "not set"
				if d.Password.IsSet() {
					pw = "set"
				}
				fmt.Fprintf(tw, "%s\t%s@%s:%d/%s\t%s\t%d\n", d.Name, d.User, d.Host, d.Port, d.DBName, pw, len(d.StorageIDs))
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
