package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		r := &cobra.Command{Use: "retention", Short: "Which backups of a database to keep"}
		r.AddCommand(retentionSetCmd(env), retentionShowCmd(env))
		root.AddCommand(r)
	})
}

func retentionSetCmd(env *Env) *cobra.Command {
	var keyFile, gfs, maxSize string
	var p store.RetentionPolicy
	cmd := &cobra.Command{
		Use:   "set NAME [--keep-last N] [--keep-days D] [--gfs H,D,W,M,Y] [--max-size SIZE]",
		Short: "Set a database's retention policy (applied to each storage after every good backup)",
		Long: "A backup is kept when any rule keeps it; the newest good backup is always kept.\n" +
			"--gfs H,D,W,M,Y keeps the newest backup of each of the last H hours, D days, W weeks,\n" +
			"M months and Y years that have one. --max-size caps the total (e.g. 50GB), oldest\n" +
			"deleted first. No option at all: keep everything.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if gfs != "" {
				parts := strings.Split(gfs, ",")
				if len(parts) != 5 {
					return fmt.Errorf("--gfs takes five counts, hourly,daily,weekly,monthly,yearly (e.g. 24,7,4,12,3), not %q", gfs)
				}
				dst := []*int{&p.Hourly, &p.Daily, &p.Weekly, &p.Monthly, &p.Yearly}
				for i, s := range parts {
					n, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil || n < 0 {
						return fmt.Errorf("--gfs: %q is not a count", s)
					}
					*dst[i] = n
				}
			}
			if maxSize != "" {
				n, err := humanize.ParseBytes(maxSize)
				if err != nil {
					return fmt.Errorf("--max-size: %q is not a size (e.g. 50GB, 500MiB)", maxSize)
				}
				p.MaxSizeBytes = int64(n)
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.SetRetention(env.Ctx, args[0], p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: %s\n", args[0], engine.DescribeRetention(p))
			return printLockAdvice(env, e, args[0], p)
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.KeepLast, "keep-last", 0, "keep the newest N backups")
	f.IntVar(&p.KeepDays, "keep-days", 0, "keep every backup younger than D days")
	f.StringVar(&gfs, "gfs", "", "hourly,daily,weekly,monthly,yearly counts")
	f.StringVar(&maxSize, "max-size", "", "total size cap per storage, e.g. 50GB")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// printLockAdvice warns on stderr where a storage's Object Lock and the
// policy do not fit.
func printLockAdvice(env *Env, e *engine.Engine, db string, p store.RetentionPolicy) error {
	advice, err := e.RetentionLockAdvice(env.Ctx, db, p)
	for _, a := range advice {
		fmt.Fprintf(env.Stderr, "warning: %s\n", a)
	}
	return err
}

func retentionShowCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a database's retention policy",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			p, err := e.Retention(env.Ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, p)
			}
			fmt.Fprintf(env.Stdout, "%s: %s\n", args[0], engine.DescribeRetention(p))
			return printLockAdvice(env, e, args[0], p)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func init() {
	register(func(root *cobra.Command, env *Env) {
		dbCmd(root).AddCommand(dbStoragesCmd(env))
	})
}

func dbStoragesCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "storages NAME STORAGE...",
		Short: "Set the storages a database's backups go to (all of them at once)",
		Args:  cobra.MinimumNArgs(2),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.SetDatabaseStorages(env.Ctx, args[0], args[1:]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: backups go to %s\n", args[0], strings.Join(args[1:], ", "))
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}
