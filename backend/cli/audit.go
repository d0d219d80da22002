package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
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
			rep, err := e.VerifyAudit(env.Ctx)
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
			if out == "" || out == "-" {
				return e.ExportAudit(env.Ctx, env.Stdout, form)
			}
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(e.ExportAudit(env.Ctx, pw, form)) }()
			_, err = writeAtomically(out, false, pr)
			return err
		},
	}
	cmd.Flags().StringVar(&form, "format", "json", "json or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default standard output)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}
