package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		st := &cobra.Command{Use: "storage", Short: "Where backups are kept"}
		st.AddCommand(storageAddCmd(env), storageListCmd(env), storageTestCmd(env))
		root.AddCommand(st, backupCmd(env), backupsCmd(env), verifyCmd(env), restoreCmd(env))
	})
}

func storageAddCmd(env *Env) *cobra.Command {
	var name, path, keyFile string
	cmd := &cobra.Command{
		Use:   "add local|s3|sftp --name NAME [options]",
		Short: "Add a storage (tested with a small write first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return errors.New("give the storage a --name")
			}
			var c store.StorageConfig
			switch args[0] {
			case "local":
				if path == "" {
					return errors.New("give the folder: --path /mnt/backups")
				}
				c = store.StorageConfig{Name: name, Kind: store.StorageLocal, Local: &store.LocalStorage{Path: path}}
			default:
				return fmt.Errorf("storage kind %q is not available in this build yet: use local (a folder, also a mounted NAS or USB drive)", args[0])
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if _, err := e.AddStorage(env.Ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "added storage %s\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for this storage")
	cmd.Flags().StringVar(&path, "path", "", "local: the folder")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func storageListCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List storages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			ss, err := e.Storages(env.Ctx)
			if err != nil || asJSON {
				if err == nil {
					err = writeJSON(env.Stdout, ss)
				}
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tWHERE")
			for _, s := range ss {
				where := ""
				if s.Local != nil {
					where = s.Local.Path
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Kind, where)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func storageTestCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Write, read back and delete a small object",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.TestStorage(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "storage %s works ✓\n", args[0])
			return nil
		},
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// backupJSON is `pgsafe backup --json`.
type backupJSON struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Database   string    `json:"database"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	RawSize    int64     `json:"raw_size"`
	StoredSize int64     `json:"stored_size"`
	Storages   []int64   `json:"storages"`
	Error      string    `json:"error,omitempty"`
}

func toBackupJSON(b store.Backup) backupJSON {
	j := backupJSON{ID: b.ID, Status: string(b.Status), Database: b.DatabaseName, Started: b.StartedAt, Finished: b.FinishedAt,
		RawSize: b.RawSize, StoredSize: b.StoredSize, Error: b.Error, Storages: []int64{}}
	for _, c := range b.Copies {
		if c.Status == store.CopyWritten {
			j.Storages = append(j.Storages, c.StorageID)
		}
	}
	return j
}

func backupCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup NAME",
		Short: "Back up a database now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			last := ""
			b, err := e.BackupNow(env.Ctx, args[0], store.OriginManual, func(p backup.Progress) {
				if !asJSON && string(p.Phase) != last {
					last = string(p.Phase)
					fmt.Fprintf(env.Stderr, "%s…\n", p.Phase)
				}
			})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, toBackupJSON(*b))
			}
			fmt.Fprintf(env.Stdout, "backup %s of %s: %s stored (%s before compression), %s\n", b.ID, args[0],
				human(b.StoredSize), human(b.RawSize), b.FinishedAt.Sub(b.StartedAt).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func backupsCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backups NAME",
		Short: "A database's backup history, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			bs, err := e.Backups(env.Ctx, args[0], 0)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]backupJSON, len(bs))
				for i, b := range bs {
					out[i] = toBackupJSON(b)
				}
				return writeJSON(env.Stdout, out)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tSTORED\tNOTE")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.ID, b.StartedAt.Local().Format(time.DateTime), b.Status, human(b.StoredSize), b.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// exitVerifyFailed: the check ran and found the backup bad.
const exitVerifyFailed = 5

func verifyCmd(env *Env) *cobra.Command {
	var keyFile, db, drill string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify ID|latest [--db NAME] [--drill-url URL]",
		Short: "Check a backup end to end; with --drill-url also restore it into a scratch database",
		Long: "Reads the stored backup, authenticates every chunk, checks its size and SHA-256 against the\n" +
			"manifest and has pg_restore read its table of contents. With --drill-url (a server where the\n" +
			"given user may create databases) it is also restored into a scratch database, every table's rows\n" +
			"are counted and compared with the backup's snapshot, and the scratch database is dropped.\n" +
			"Exit 5 when the backup is bad.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			b, err := e.FindBackup(env.Ctx, args[0], db)
			if err != nil {
				return err
			}
			res, err := e.VerifyBackup(env.Ctx, b, drill)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(env.Stdout, res); err != nil {
					return err
				}
			} else if res.OK {
				fmt.Fprintf(env.Stdout, "backup %s: %s OK ✓ (%d tables)\n", b.ID, res.Kind, res.Tables)
			}
			if !res.OK {
				return exitError{code: exitVerifyFailed, err: fmt.Errorf("backup %s failed its %s: %s", b.ID, res.Kind, res.Problem.Detail)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "the database (for latest)")
	cmd.Flags().StringVar(&drill, "drill-url", "", "restore drill on this server (credentials used once, never stored)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func restoreCmd(env *Env) *cobra.Command {
	var keyFile, db, to string
	var jobs int
	var replace, asJSON bool
	cmd := &cobra.Command{
		Use:   "restore ID|latest --db NAME --to URL [--jobs N]",
		Short: "Restore a backup into the database named by URL (write credentials, used once)",
		Long: "Creates the database named in --to and restores the backup into it. The URL's credentials\n" +
			"must be able to create databases; they are used for this restore only, never stored.\n" +
			"--replace restores over an existing database instead (its objects in the backup are dropped\n" +
			"and re-created), after the whole backup has been read and authenticated once.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return errors.New("give the target: --to postgres://user:password@host:5432/newdb")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			b, err := e.FindBackup(env.Ctx, args[0], db)
			if err != nil {
				return err
			}
			last := ""
			rr, err := e.RestoreBackup(env.Ctx, b, to, engine.RestoreOptions{Replace: replace, Jobs: jobs, NoOwner: true,
				Progress: func(p restore.Progress) {
					if !asJSON && p.Phase != last {
						last = p.Phase
						fmt.Fprintf(env.Stderr, "%s…\n", p.Phase)
					}
				}})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, rr)
			}
			fmt.Fprintf(env.Stdout, "backup %s restored into %s in %s", b.ID, rr.Database, rr.Duration.Round(time.Millisecond))
			if rr.IgnoredErrors > 0 {
				fmt.Fprintf(env.Stdout, ", with %d errors pg_restore went past:", rr.IgnoredErrors)
				for _, w := range rr.Warnings {
					fmt.Fprintf(env.Stdout, "\n  %s", w)
				}
			}
			fmt.Fprintln(env.Stdout)
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "the database (for latest)")
	cmd.Flags().StringVar(&to, "to", "", "target database URL with write credentials")
	cmd.Flags().IntVar(&jobs, "jobs", 1, "parallel pg_restore jobs (more than 1 decrypts to a private temporary file first)")
	cmd.Flags().BoolVar(&replace, "replace", false, "restore over an existing database")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func human(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
