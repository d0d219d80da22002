package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		s := &cobra.Command{Use: "settings", Short: "The settings database"}
		s.AddCommand(settingsCheckCmd(env), settingsAcceptCmd(env), settingsOAuthCmd(env))
		root.AddCommand(s)
	})
}

func settingsAcceptCmd(env *Env) *cobra.Command {
	var (
		keyFile string
		yes     bool
	)
	cmd := &cobra.Command{
		Use:   "accept",
		Short: "Accept a settings database changed outside PgSafe (e.g. restored from a backup) as it now is",
		Long: `PgSafe refuses a settings database that was changed outside PgSafe: rows put back
to older copies, rows removed, or the file replaced by an older copy (docs/STORE.md,
"Integrity"). If you did that yourself (you restored pgsafe.db from a backup of your
home folder, or edited it), accept it as it now is with --yes: every row is bound again
as it is and each database's storage links are rebuilt from its sealed list. The
acceptance is recorded in the audit log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return errors.New("this accepts the settings database as it is now, including changes made outside PgSafe: run again with --yes if you restored it yourself")
			}
			e, err := engine.Open(env.Ctx, engine.Options{KeyFile: keyFile, Log: env.Log, AcceptModified: true})
			if err != nil {
				return err
			}
			defer e.Close()
			fmt.Fprintf(env.Stdout, "settings database %s accepted as it is now ✓\n", e.SettingsFile())
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "accept the settings database as it is now")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// exitSettingsDamaged is the exit code of `settings check` when rows were
// modified outside PgSafe.
const exitSettingsDamaged = 4

func settingsCheckCmd(env *Env) *cobra.Command {
	var (
		keyFile string
		forget  bool
	)
	cmd := &cobra.Command{
		Use:   "check [--forget-damaged]",
		Short: "List settings rows modified outside PgSafe; exit 4 if there are any",
		Long: `Every row of the settings database is authenticated (docs/STORE.md, "Integrity"). This
lists the rows whose values were changed outside PgSafe; PgSafe does not act on them.
--forget-damaged removes the damaged history records (backups, copies, verify/drill/restore
runs, health checks) and schedules; the backup files in your storages are not touched
(` + "`pgsafe backups --storage`" + ` lists them). If you changed the file yourself,
` + "`pgsafe settings accept --yes`" + ` takes it as it is instead.`,
		Args: cobra.NoArgs,
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, _ []string) error {
			if forget {
				gone, err := e.ForgetDamagedSettings(env.Ctx)
				for _, d := range gone {
					fmt.Fprintf(env.Stdout, "removed %s row %s\n", d.Table, d.Row)
				}
				if err != nil {
					return err
				}
			}
			check, err := e.CheckSettings(env.Ctx)
			if err != nil {
				return err
			}
			if check.Err() == nil {
				fmt.Fprintln(env.Stdout, "settings database intact ✓")
				return nil
			}
			for _, d := range check.Damaged {
				note := ""
				if !forget && d.Forgettable {
					note = " (--forget-damaged removes it)"
				}
				fmt.Fprintf(env.Stdout, "modified outside PgSafe: %s row %s%s\n", d.Table, d.Row, note)
			}
			return exitError{code: exitSettingsDamaged, err: check.Err()}
		}),
	}
	cmd.Flags().BoolVar(&forget, "forget-damaged", false, "remove damaged history records and schedules")
	keyFileFlag(cmd, &keyFile)
	return cmd
}
