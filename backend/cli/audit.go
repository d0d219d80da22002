package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/audit"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		a := &cobra.Command{Use: "audit", Short: "The tamper-evident audit log"}
		a.AddCommand(auditVerifyCmd(env), auditExportCmd(env))
		root.AddCommand(a)
	})
}

// exitAuditBroken is the exit code of `audit verify` when the log is broken.
const exitAuditBroken = 4

func auditVerifyCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's chain; exit 4 if it is broken",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			rep, err := e.Audit().Verify(env.Ctx)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(env.Stdout, rep); err != nil {
					return err
				}
			} else if rep.Intact {
				fmt.Fprintf(env.Stdout, "audit log %s ✓\n", rep)
			}
			if !rep.Intact {
				return exitError{code: exitAuditBroken, err: fmt.Errorf("audit log %s", rep)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func auditExportCmd(env *Env) *cobra.Command {
	var keyFile, form, out string
	cmd := &cobra.Command{
		Use:   "export --format json|csv [--out FILE]",
		Short: "Write the audit log's entries, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if form != "json" && form != "csv" {
				return errors.New("--format must be json or csv")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			recs, err := e.Audit().List(env.Ctx, audit.Filter{})
			if err != nil {
				return err
			}
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
			write := func(w io.Writer) error {
				if form == "csv" {
					return audit.WriteCSV(w, recs)
				}
				return audit.WriteJSON(w, recs)
			}
			if out == "" || out == "-" {
				return write(env.Stdout)
			}
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(write(pw)) }()
			_, err = writeAtomically(out, false, pr)
			return err
		},
	}
	cmd.Flags().StringVar(&form, "format", "json", "json or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default standard output)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}
