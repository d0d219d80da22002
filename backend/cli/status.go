package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/status"
)

// Exit codes of `pgsafe status`: scripts and monitoring gate on them.
const (
	exitStatusAttention = 6 // some database needs attention
	exitStatusFailing   = 7 // some database is failing or has no good backup
)

func init() {
	register(func(root *cobra.Command, env *Env) { root.AddCommand(statusCmd(env)) })
}

// statusJSON is `pgsafe status --json`.
type statusJSON struct {
	Databases           []databaseStatusJSON `json:"databases"`
	RecoveryKitExported bool                 `json:"recovery_kit_exported"`
}

type databaseStatusJSON struct {
	Name           string          `json:"name"`
	State          status.State    `json:"state"`
	LastGoodBackup *time.Time      `json:"last_good_backup"`
	LastBackup     *lastBackupJSON `json:"last_backup"`
	NextRun        *time.Time      `json:"next_run"`
	Reasons        []status.Reason `json:"reasons"`
}

func toStatusJSON(o engine.Overall) statusJSON {
	out := statusJSON{Databases: []databaseStatusJSON{}, RecoveryKitExported: o.RecoveryKitExported}
	for _, d := range o.Databases {
		j := databaseStatusJSON{Name: d.Name, State: d.State, Reasons: d.Reasons}
		if g := d.LastGood; g != nil {
			j.LastGoodBackup = &g.StartedAt
		}
		if l := d.Last; l != nil {
			j.LastBackup = &lastBackupJSON{ID: l.ID, Status: d.LastRow().Status, Started: l.StartedAt, Error: l.Error}
		}
		j.NextRun = timePtr(d.NextRun)
		out.Databases = append(out.Databases, j)
	}
	return out
}

func statusCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [NAME] [--json]",
		Short: "Is every database safe? Its state and what to do (exit 0 protected, 6 attention, 7 failing)",
		Long: "Each database is protected (a good, recent backup on every storage), needs attention (overdue,\n" +
			"one storage failed, never verified, schedules paused), failing (the last backup or check\n" +
			"failed, the database is down) or unprotected (no good backup yet), with the reasons and what\n" +
			"fixes each. Exit 0 when every database is protected, 6 when any needs attention, 7 when any\n" +
			"is failing or unprotected.",
		Args: cobra.MaximumNArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			only := ""
			if len(args) == 1 {
				only = args[0]
			}
			o, err := e.Status(env.Ctx, only)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(env.Stdout, toStatusJSON(o)); err != nil {
					return err
				}
			} else {
				printStatus(env, o)
			}
			switch sum := o.Summary(); {
			case len(sum.Failing) > 0:
				return exitError{code: exitStatusFailing, err: fmt.Errorf("a database is not safely backed up")}
			case len(sum.Attention) > 0:
				return exitError{code: exitStatusAttention, err: fmt.Errorf("a database needs attention")}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func printStatus(env *Env, o engine.Overall) {
	if len(o.Databases) == 0 {
		fmt.Fprintln(env.Stdout, "no databases yet (`pgsafe db add`)")
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, d := range o.Databases {
		last := "no good backup"
		if g := d.LastGood; g != nil {
			last = fmt.Sprintf("last good backup %s (%s)", g.StartedAt.Local().Format(time.DateTime), human.Bytes(g.StoredSize))
		}
		next := ""
		if !d.NextRun.IsZero() {
			next = " · next " + d.NextRun.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", d.Name, d.State, last, next)
		for _, r := range d.Reasons {
			fmt.Fprintf(tw, "\t\t%s: %s\n", r.Message, r.Action)
		}
	}
	tw.Flush()
	if !o.RecoveryKitExported {
		fmt.Fprintln(env.Stdout, "no recovery kit of this machine's key was exported yet: `pgsafe key export --out FILE` (without it, a lost computer loses every backup)")
	}
}
