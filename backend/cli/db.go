package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/pg"
)

// exitWriteAccess is the exit code of `db check` (and `db setup-readonly`)
// when the role has write access: the check ran, its answer is "no".
const exitWriteAccess = 3

func init() {
	register(func(root *cobra.Command, env *Env) {
		db := dbCmd(root)
		db.AddCommand(dbCheckCmd(env), dbSetupReadOnlyCmd(env))
	})
}

// dbCmd returns root's "db" command, creating it on first use, so that each
// file adding db subcommands registers on its own.
func dbCmd(root *cobra.Command) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == "db" {
			return c
		}
	}
	c := &cobra.Command{Use: "db", Short: "Databases: check a role's rights, create a read-only backup role"}
	root.AddCommand(c)
	return c
}

func dbCheckCmd(env *Env) *cobra.Command {
	var url, keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check NAME | --url URL",
		Short: "Read-only audit: every way the role could change data, and what a backup could not read",
		Long: "Connects read-only with the URL's credentials and reports every way the role could change data\n" +
			"(with the SQL that fixes each), and what pg_dump would fail to read. Exit 0 when the role is\n" +
			"read-only (with or without warnings), 3 when it has write access, 1 when the check could not run.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && url != "" {
				return errors.New("give a saved database's NAME or --url, not both")
			}
			var rep pg.Report
			var target string
			if len(args) == 1 {
				var err error
				if rep, target, err = checkSaved(env, args[0], keyFile); err != nil {
					return err
				}
			} else {
				if url == "" {
					return errors.New("give the database to check: NAME, or --url postgres://user:password@host:5432/dbname")
				}
				res, err := engine.CheckInput(env.Ctx, engine.DatabaseInput{URL: url})
				if err != nil {
					return err
				}
				rep, target = res.Report, res.Target
			}
			var err error
			if asJSON {
				err = writeJSON(env.Stdout, rep)
			} else {
				err = printReport(env.Stdout, target, rep)
			}
			if err != nil {
				return err
			}
			return verdictErr(rep)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "connection URL (postgres://…) or key=value settings; used for this check only, never stored")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document: verdict, findings, missing_read")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// verdictErr is the exit status of a finished check.
func verdictErr(rep pg.Report) error {
	v := engine.VerdictOf(rep)
	if !v.WriteAccess {
		return nil
	}
	n := v.Writes
	return exitError{code: exitWriteAccess, err: fmt.Errorf("role %s has write access (%d finding%s): it is not fit for backups as is", rep.Role, n, map[bool]string{true: "", false: "s"}[n == 1])}
}

// printReport prints the audit for people.
func printReport(w io.Writer, target string, rep pg.Report) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Role %s on %s (PostgreSQL %d.%d): %s\n", rep.Role, target, rep.ServerVersion/10000, rep.ServerVersion%10000, engine.VerdictOf(rep).Words)
	for _, f := range rep.Findings {
		fmt.Fprintf(b, "\n[%s] %s — %s\n", f.Severity, f.Object, f.Code)
		fmt.Fprintf(b, "  %s\n", f.Detail)
		if f.FixSQL != "" {
			fmt.Fprintf(b, "  Fix:\n    %s\n", strings.ReplaceAll(f.FixSQL, "\n", "\n    "))
		}
	}
	if len(rep.MissingRead) > 0 {
		fmt.Fprintf(b, "\nA backup would fail: the role cannot read\n")
		for _, m := range rep.MissingRead {
			fmt.Fprintf(b, "  %s (%s): %s\n    %s\n", m.Object, m.Privilege, m.Detail, strings.ReplaceAll(m.FixSQL, "\n", "\n    "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// setupJSON is `db setup-readonly --json`'s document.
type setupJSON struct {
	Role       string     `json:"role"`
	Method     string     `json:"method"`
	Executed   bool       `json:"executed"`
	Password   string     `json:"password,omitempty"` // only when PgSafe generated it: shown this once
	SQL        string     `json:"sql"`
	Notes      []string   `json:"notes"`
	WriteRisks []string   `json:"write_risks"`
	Check      *pg.Report `json:"check,omitempty"` // the new role's audit, when executed
}

func dbSetupReadOnlyCmd(env *Env) *cobra.Command {
	var url, role, keyFile string
	var printSQL, asJSON, passwordStdin bool
	var opts engine.RoleInput
	cmd := &cobra.Command{
		Use:   "setup-readonly --url ADMIN_URL --role NAME",
		Short: "Create a read-only backup role (or print the SQL that does)",
		Long: "Plans a new login role that reads everything a backup needs and can change nothing, then runs\n" +
			"the SQL once with the admin URL's credentials, in one transaction (all or nothing), and checks\n" +
			"the new role. The admin URL is used for this command only: never stored, never logged.\n" +
			"The role's creation (or the failure to create it) is recorded in the audit log, so this\n" +
			"opens PgSafe's key and settings like the window's guided setup; --print-sql does not.\n" +
			"With --print-sql nothing runs: the SQL is printed for review. The new role's password is\n" +
			"generated (and printed once; with --print-sql on stderr, so the SQL can go to a file) or read\n" +
			"from stdin with --password-stdin; only its SCRAM verifier appears in the SQL.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" || role == "" {
				return errors.New("give the admin connection and the new role's name: --url ADMIN_URL --role NAME")
			}
			generated := !passwordStdin
			if passwordStdin {
				pw, err := readPasswordLine(env.Stdin)
				if err != nil {
					return err
				}
				opts.Password = pw
			}
			if printSQL {
				plan, err := engine.PlanRole(env.Ctx, url, role, opts.Options())
				if err != nil {
					return err
				}
				out := planJSON(plan, generated, false, nil)
				if asJSON {
					return writeJSON(env.Stdout, out)
				}
				if _, err := io.WriteString(env.Stdout, plan.SQL); err != nil {
					return err
				}
				for _, r := range plan.WriteRisks {
					fmt.Fprintf(env.Stderr, "warning: %s\n", r)
				}
				if generated {
					fmt.Fprintf(env.Stderr, "The new role's password (shown once, PgSafe does not keep it): %s\n", plan.Password)
				}
				return nil
			}
			// Through the engine, like the window's guided setup: the new
			// role (or the failure to create it) is in the audit log.
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			res, err := e.SetupReadOnlyRole(env.Ctx, url, role, opts.Options(), "", nil)
			if err != nil {
				return err
			}
			plan := res.RolePlan()
			if asJSON {
				if err := writeJSON(env.Stdout, planJSON(plan, generated, true, &res.Report)); err != nil {
					return err
				}
				return verdictErr(res.Report)
			}
			fmt.Fprintf(env.Stdout, "Created role %s (%s) in database %s.\n", res.Plan.RoleIdent, res.Plan.Method, res.Plan.Database)
			if generated {
				fmt.Fprintf(env.Stdout, "Its password (shown once, PgSafe does not keep it): %s\n", plan.Password)
			}
			for _, n := range res.Plan.Notes {
				fmt.Fprintf(env.Stdout, "Note: %s\n", n)
			}
			fmt.Fprintln(env.Stdout)
			if err := printReport(env.Stdout, res.Target, res.Report); err != nil {
				return err
			}
			return verdictErr(res.Report)
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", "", "an administrator's connection URL for the database; used once, never stored")
	f.StringVar(&role, "role", "", "name of the new role, e.g. pgsafe_backup")
	f.BoolVar(&printSQL, "print-sql", false, "only print the SQL, run nothing")
	f.BoolVar(&asJSON, "json", false, "print one JSON document")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the new role's password from the first line of stdin instead of generating one")
	f.BoolVar(&opts.PerSchema, "per-schema", false, "grant schema by schema (and default privileges) even where pg_read_all_data exists")
	f.BoolVar(&opts.RevokePublicTemp, "revoke-public-temp", false, "also revoke TEMPORARY on the database from PUBLIC (every role); roles that need temporary tables then need an explicit grant")
	f.BoolVar(&opts.RevokePublicCreate, "revoke-public-create", false, "also revoke CREATE on schemas from PUBLIC where it has it (schema public before PostgreSQL 15); roles that create objects there then need an explicit grant")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func planJSON(plan engine.RolePlan, generated, executed bool, rep *pg.Report) setupJSON {
	out := setupJSON{Role: plan.Role, Method: plan.Method, Executed: executed, SQL: plan.SQL,
		Notes: append([]string{}, plan.Notes...), WriteRisks: append([]string{}, plan.WriteRisks...), Check: rep}
	if generated {
		out.Password = plan.Password
	}
	return out
}

// readPasswordLine reads the first line of r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: stdin holds no password (give it on the first line)")
	}
	return line, nil
}
