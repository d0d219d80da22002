package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/human"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
	"github.com/pgsafe/pgsafe/backend/ui"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		root.AddCommand(backupCmd(env), backupsCmd(env), verifyCmd(env), restoreCmd(env))
	})
}

// backupJSON is `pgsafe backup --json`.
type backupJSON struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Origin     string    `json:"origin"` // manual, scheduled or import
	Database   string    `json:"database"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	RawSize    int64     `json:"raw_size"`
	StoredSize int64     `json:"stored_size"`
	Storages   []int64   `json:"storages"`
	Error      string    `json:"error,omitempty"`
}

func toBackupJSON(b store.Backup) backupJSON {
	row := engine.DescribeBackup(b, nil)
	return backupJSON{ID: b.ID, Status: row.Status, Origin: b.Origin, Database: b.DatabaseName, Started: b.StartedAt, Finished: b.FinishedAt,
		RawSize: b.RawSize, StoredSize: b.StoredSize, Error: b.Error, Storages: row.Kept}
}

func backupCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup NAME",
		Short: "Back up a database now (progress on stderr)",
		Args:  cobra.ExactArgs(1),
		Long: "Backs up the database now: progress on stderr, the result on stdout.\n" +
			"When PgSafe's agent runs for the settings directory, the backup runs in it (closing the\n" +
			"terminal does not stop it): Ctrl+C on a terminal asks whether to cancel it or leave it\n" +
			"running; without a terminal, SIGINT or SIGTERM leaves it running and exits 130 or 143.\n" +
			"Otherwise (or with --key-file) it runs in this process, and SIGINT or SIGTERM cancels it.",
		RunE: orInAgent(env, &keyFile, func(a *agentConn, args []string) error {
			return backupInAgent(env, a, args[0], asJSON)
		}, withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			ctx, stop := interruptible(env)
			defer stop()
			line := newProgressLine(env.Stderr)
			b, err := e.BackupByHand(ctx, args[0], line.show)
			line.done()
			if err != nil {
				return interruptedExit(ctx, err)
			}
			return printBackup(env, b, args[0], asJSON)
		})),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// printBackup prints a backup's result: a warning on stderr if it reached
// some storages but not all, and the backup on stdout.
func printBackup(env *Env, b *store.Backup, db string, asJSON bool) error {
	if v, ok := engine.DescribeRun(*b); ok {
		return printRun(env, b, v, db, asJSON)
	}
	if b.Error != "" { // written, but not to every storage
		fmt.Fprintf(env.Stderr, "warning: %s\n", b.Error)
	}
	if asJSON {
		return writeJSON(env.Stdout, toBackupJSON(*b))
	}
	fmt.Fprintf(env.Stdout, "backup %s of %s: %s stored (%s before compression), %s\n", b.ID, db,
		human.Bytes(b.StoredSize), human.Bytes(b.RawSize), b.FinishedAt.Sub(b.StartedAt).Round(time.Millisecond))
	return nil
}

// runJSON is `pgsafe backup SERVER --json`: the run and each database's
// backup.
type runJSON struct {
	backupJSON
	Databases []engine.RunLine `json:"databases"`
	Gone      []string         `json:"gone,omitempty"`
}

// printRun prints a server entry's run: one line per database (new ones
// said so), the databases no longer on the server, and a warning for those
// not backed up.
func printRun(env *Env, b *store.Backup, m engine.RunView, server string, asJSON bool) error {
	if b.Error != "" {
		fmt.Fprintf(env.Stderr, "warning: %s\n", b.Error)
	}
	if asJSON {
		return writeJSON(env.Stdout, runJSON{backupJSON: toBackupJSON(*b), Databases: m.Databases, Gone: m.Gone})
	}
	for _, d := range m.Databases {
		note := ""
		if d.New {
			note = " (new database, included)"
		}
		if d.OK {
			fmt.Fprintf(env.Stdout, "  %s: backup %s%s\n", d.Entry, d.BackupID, note)
		} else {
			fmt.Fprintf(env.Stdout, "  %s: %s%s: %s\n", d.Entry, d.Status, note, d.Error)
		}
	}
	for _, g := range m.Gone {
		fmt.Fprintf(env.Stdout, "  %s: no longer on the server; its backups are kept\n", g)
	}
	if m.RolesMissing != "" {
		fmt.Fprintf(env.Stderr, "warning: %s\n", m.RolesMissing)
	}
	fmt.Fprintf(env.Stdout, "run %s of %s: %d of %d databases backed up, %s\n", b.ID, server,
		m.BackedUp, len(m.Databases), b.FinishedAt.Sub(b.StartedAt).Round(time.Millisecond))
	return nil
}

func backupsCmd(env *Env) *cobra.Command {
	var keyFile, storageName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backups NAME | --storage STORAGE",
		Short: "A database's backup history, newest first; or the backups a storage holds",
		Long: "With --storage, lists the backups found in that storage by their encrypted manifests, read\n" +
			"with this machine's key: on a new machine, add the storage, then list and restore from it.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 0) == (storageName == "") {
				return errors.New("give a database NAME, or --storage STORAGE")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if storageName != "" {
				return listStored(env, e, storageName, asJSON)
			}
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
			fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tSTORED\tSTORAGES\tNOTE")
			for _, b := range bs {
				j := toBackupJSON(b)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", b.ID, b.StartedAt.Local().Format(time.DateTime), j.Status,
					human.Bytes(b.StoredSize), len(j.Storages), b.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&storageName, "storage", "", "list what this storage holds instead of the history")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func listStored(env *Env, e *engine.Engine, storageName string, asJSON bool) error {
	list, err := e.StorageBackups(env.Ctx, storageName)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(env.Stdout, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATABASE\tSTARTED\tSTORED\tTABLES\tNOTE")
	for _, sb := range list {
		if m := sb.Manifest; m != nil {
			note := ""
			if sb.InHistory {
				note = "in this machine's history"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.BackupID, m.DatabaseName, m.Started.Local().Format(time.DateTime),
				human.Bytes(m.StoredSize), len(m.Tables), note)
		} else {
			fmt.Fprintf(tw, "?\t?\t\t\t\tunreadable %s: %s\n", sb.Object, sb.Error)
		}
	}
	return tw.Flush()
}

// findBackup resolves ID|latest: from a storage (imported into the history
// on the way) or from the history. A path to a .pgsafe file (one copied from
// another machine, say) is imported into the history first.
func findBackup(env *Env, e *engine.Engine, ref, db, storageName string) (store.Backup, error) {
	if storageName != "" {
		return e.ImportStoredBackup(env.Ctx, storageName, ref)
	}
	if strings.HasSuffix(ref, ".pgsafe") {
		if _, err := os.Stat(ref); err == nil {
			return e.ImportFile(env.Ctx, ref)
		}
	}
	return e.FindBackup(env.Ctx, ref, db)
}

// exitVerifyFailed: the check ran and found the backup bad.
const exitVerifyFailed = 5

func verifyCmd(env *Env) *cobra.Command {
	var keyFile, db, drill, storageName string
	var asJSON, local bool
	cmd := &cobra.Command{
		Use:   "verify ID|latest|FILE.pgsafe [--db NAME] [--drill | --drill-url URL]",
		Short: "Check a backup end to end; with --drill or --drill-url also restore it into a scratch database",
		Long: "Reads the stored backup, authenticates every chunk, checks its size and SHA-256 against the\n" +
			"manifest and has pg_restore read its table of contents. With --drill it is also restored into a\n" +
			"throwaway PostgreSQL that PgSafe starts with the server programs of this computer (initdb and\n" +
			"postgres of the backup's major or newer; private folder, Unix socket only, removed afterwards),\n" +
			"every table's rows are counted and compared with the backup's snapshot, and the restore time is\n" +
			"reported. With --drill-url (a server where the given user may create databases) the drill runs\n" +
			"in a scratch database there instead, dropped afterwards.\n" +
			"Exit 5 when the backup is bad.\n" +
			"When PgSafe's agent runs for the settings directory, the check runs in it (see `pgsafe backup --help`\n" +
			"for Ctrl+C); otherwise, or with --key-file, in this process.",
		Args: cobra.ExactArgs(1),
		RunE: orInAgent(env, &keyFile, func(a *agentConn, args []string) error {
			src, err := backupSource(args[0], db, storageName)
			if err != nil {
				return err
			}
			return checkInAgent(env, a, ui.CheckRequest{BackupSource: src, DrillURL: drill, Drill: local}, asJSON)
		}, withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			b, err := findBackup(env, e, args[0], db, storageName)
			if err != nil {
				return err
			}
			var res *restore.Result
			if local && drill == "" {
				res, err = e.DrillBackupLocal(env.Ctx, b)
			} else {
				res, err = e.VerifyBackup(env.Ctx, b, drill)
			}
			if err != nil {
				return err
			}
			return printCheck(env, b.ID, res, asJSON)
		})),
	}
	cmd.Flags().StringVar(&db, "db", "", "the database (for latest)")
	cmd.Flags().StringVar(&storageName, "storage", "", "take the backup from this storage (e.g. on a new machine; it is added to the history)")
	cmd.Flags().StringVar(&drill, "drill-url", "", "restore drill on this server (credentials used once, never stored)")
	cmd.Flags().BoolVar(&local, "drill", false, "restore drill in a throwaway local PostgreSQL (server programs found on this computer)")
	cmd.MarkFlagsMutuallyExclusive("drill", "drill-url")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// printCheck prints a verify's or drill's result; a bad backup is exit 5.
func printCheck(env *Env, backupID string, res *restore.Result, asJSON bool) error {
	if asJSON {
		if err := writeJSON(env.Stdout, res); err != nil {
			return err
		}
	} else if res.OK {
		fmt.Fprintf(env.Stdout, "backup %s: %s OK ✓ (%d tables)\n", backupID, res.Kind, res.Tables)
		if sum := engine.DrillSummary(res); sum != "" {
			fmt.Fprintln(env.Stdout, sum)
		}
	}
	if !res.OK {
		return exitError{code: exitVerifyFailed, err: fmt.Errorf("backup %s failed its %s: %s", backupID, res.Kind, res.Problem.Detail)}
	}
	return nil
}

func restoreCmd(env *Env) *cobra.Command {
	var keyFile, db, to, storageName string
	var only []string
	var jobs int
	var replace, asJSON, noOwner, noPrivileges, noTablespaces bool
	var createRoles string
	var roleMapArgs []string
	cmd := &cobra.Command{
		Use:   "restore ID|latest|FILE.pgsafe --db NAME --to URL [--jobs N] [--create-roles] [--role-map OLD=NEW]… [--no-owner] [--no-privileges] [--no-tablespaces] [--only DB]…",
		Short: "Restore a backup into the database named by URL (write credentials, used once)",
		Long: "Creates the database named in --to and restores the backup into it. The URL's credentials\n" +
			"must be able to create databases; they are used for this restore only, never stored.\n" +
			"--replace restores over an existing database instead (its objects in the backup are dropped\n" +
			"and re-created), after the whole backup has been read and authenticated once.\n" +
			"Objects keep their recorded owners and grants. Before anything is written, the roles the backup\n" +
			"names (owners, grantees, policies) are checked on the target; when some are missing, or the URL's\n" +
			"role (not a superuser) cannot give objects to them, the restore stops and says which. Then:\n" +
			"--create-roles creates the missing roles from the roles saved with the backup, without passwords\n" +
			"and unable to log in (--create-roles=login keeps their LOGIN attribute); existing roles are never\n" +
			"changed. --role-map OLD=NEW gives OLD's objects and grants to NEW, a role that exists.\n" +
			"--no-owner and --no-privileges restore without them (objects belong to the URL's role).\n" +
			"Tablespaces are not created: when the backup puts objects in one the target lacks, the restore\n" +
			"stops first and says which; --no-tablespaces puts everything in the target's default tablespace.\n" +
			"A path to a .pgsafe file (copied from another machine, say) is imported into the history first;\n" +
			"its manifest is read from beside it (NAME.manifest.pgsafe) when there.\n" +
			"When PgSafe's agent runs for the settings directory, the restore runs in it (the URL's\n" +
			"credentials travel to it for this restore only; see `pgsafe backup --help` for Ctrl+C);\n" +
			"otherwise, or with --key-file, in this process.\n" +
			"A server entry's run (--db SERVER) restores into another server: every database of the run\n" +
			"(or only the --only ones) into a database of the same name, created there, each checked against\n" +
			"its recorded row counts; --to names the target server (postgres:// URL). Nothing is written when\n" +
			"one of them already exists there. It runs in this process.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return errors.New("give the target: --to postgres://user:password@host:5432/newdb")
			}
			roleMap, err := parseRoleMap(roleMapArgs)
			if err != nil {
				return err
			}
			if createRoles != "" && createRoles != "nologin" && createRoles != "login" {
				return fmt.Errorf("--create-roles=%s: use --create-roles (unable to log in) or --create-roles=login", createRoles)
			}
			if db != "" || len(only) > 0 {
				done, err := restoreServer(env, keyFile, args[0], db, storageName, to, only, engine.RestoreOptions{Jobs: jobs,
					NoOwner: noOwner, NoPrivileges: noPrivileges, NoTablespaces: noTablespaces,
					CreateRoles: createRoles != "", CreateRolesLogin: createRoles == "login", RoleMap: roleMap}, asJSON)
				if done {
					return err
				}
			}
			a, err := jobAgent(env, keyFile)
			if err != nil {
				return err
			}
			if a != nil {
				defer a.c.Close()
				src, err := backupSource(args[0], db, storageName)
				if err != nil {
					return err
				}
				return restoreInAgent(env, a, ui.RestoreJobRequest{BackupSource: src, To: to, Replace: replace, Jobs: jobs,
					NoOwner: noOwner, NoPrivileges: noPrivileges, NoTablespaces: noTablespaces, CreateRoles: createRoles != "", CreateRolesLogin: createRoles == "login",
					RoleMap: roleMap}, asJSON)
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			b, err := findBackup(env, e, args[0], db, storageName)
			if err != nil {
				return err
			}
			last := ""
			rr, err := e.RestoreBackup(env.Ctx, b, engine.RestoreTarget{URL: to}, engine.RestoreOptions{Replace: replace, Jobs: jobs,
				NoOwner: noOwner, NoPrivileges: noPrivileges, NoTablespaces: noTablespaces,
				CreateRoles: createRoles != "", CreateRolesLogin: createRoles == "login", RoleMap: roleMap,
				Progress: func(p restore.Progress) {
					if !asJSON && p.Phase != last {
						last = p.Phase
						fmt.Fprintf(env.Stderr, "%s…\n", p.Phase)
					}
				}})
			if err != nil {
				return err
			}
			return printRestore(env, b.ID, rr, noOwner, asJSON)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "the database (for latest)")
	cmd.Flags().StringVar(&storageName, "storage", "", "take the backup from this storage (e.g. on a new machine; it is added to the history)")
	cmd.Flags().StringVar(&to, "to", "", "target database URL with write credentials")
	cmd.Flags().IntVar(&jobs, "jobs", 1, "parallel pg_restore jobs (more than 1 decrypts to a private temporary file first)")
	cmd.Flags().BoolVar(&replace, "replace", false, "restore over an existing database")
	cmd.Flags().BoolVar(&noOwner, "no-owner", false, "objects belong to the restoring role, not their recorded owners (pg_restore --no-owner)")
	cmd.Flags().BoolVar(&noPrivileges, "no-privileges", false, "skip the backup's GRANT and REVOKE (pg_restore --no-privileges)")
	cmd.Flags().BoolVar(&noTablespaces, "no-tablespaces", false, "put every object in the target's default tablespace (pg_restore --no-tablespaces)")
	cmd.Flags().StringVar(&createRoles, "create-roles", "", "create the roles the target lacks from the ones saved with the backup (no passwords, NOLOGIN; =login keeps LOGIN)")
	cmd.Flags().Lookup("create-roles").NoOptDefVal = "nologin"
	cmd.Flags().StringArrayVar(&roleMapArgs, "role-map", nil, "OLD=NEW: give role OLD's objects and grants to NEW, which exists on the target (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().StringArrayVar(&only, "only", nil, "of a server entry's run: restore only this database (repeatable)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// restoreServer is `restore … --db SERVER`: a server entry's run restored
// into another server. done is false when the backup is not a run (the
// ordinary restore then goes on).
func restoreServer(env *Env, keyFile, ref, db, storageName, to string, only []string, opts engine.RestoreOptions, asJSON bool) (done bool, err error) {
	e, err := openEngine(env, keyFile)
	if err != nil {
		if len(only) == 0 {
			// This process cannot open the settings (no keychain here, say):
			// the ordinary restore goes on, in PgSafe's agent when it runs.
			return false, nil
		}
		return true, err
	}
	defer e.Close()
	b, err := findBackup(env, e, ref, db, storageName)
	if err != nil {
		return true, err
	}
	if _, ok := engine.DescribeRun(b); !ok {
		if len(only) > 0 {
			return true, errors.New("--only names databases of a server entry's run; this backup is of one database")
		}
		return false, nil
	}
	ctx, stop := interruptible(env)
	defer stop()
	res, err := e.RestoreServer(ctx, b, to, only, opts)
	if asJSON && res != nil {
		if jerr := writeJSON(env.Stdout, res); jerr != nil {
			return true, jerr
		}
		return true, err
	}
	for _, r := range res {
		if r.Error != "" {
			fmt.Fprintf(env.Stdout, "  %s: not restored: %s\n", r.Database, r.Error)
			continue
		}
		fmt.Fprintf(env.Stdout, "  %s: restored from backup %s in %s, row counts match\n", r.Database, r.BackupID, r.Result.Duration.Round(time.Millisecond))
	}
	if err != nil {
		return true, interruptedExit(ctx, err)
	}
	fmt.Fprintf(env.Stdout, "run %s of %s: %d databases restored\n", b.ID, b.DatabaseName, len(res))
	return true, nil
}

// parseRoleMap reads --role-map OLD=NEW flags.
func parseRoleMap(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, a := range args {
		old, to, ok := strings.Cut(a, "=")
		if !ok || old == "" || to == "" {
			return nil, fmt.Errorf("--role-map %q: give OLD=NEW, the role in the backup and the role on the target", a)
		}
		if prev, dup := m[old]; dup && prev != to {
			return nil, fmt.Errorf("--role-map gives %s to both %s and %s", old, prev, to)
		}
		m[old] = to
	}
	return m, nil
}

// printRestore prints a restore's result.
func printRestore(env *Env, backupID string, rr *restore.RestoreResult, noOwner, asJSON bool) error {
	if asJSON {
		return writeJSON(env.Stdout, rr)
	}
	if len(rr.RolesCreated) > 0 {
		fmt.Fprintf(env.Stderr, "created roles from the ones saved with the backup: %s\n", strings.Join(rr.RolesCreated, ", "))
	}
	fmt.Fprintf(env.Stdout, "backup %s restored into %s in %s", backupID, rr.Database, rr.Duration.Round(time.Millisecond))
	if rr.IgnoredErrors > 0 {
		fmt.Fprintf(env.Stdout, ", with %d errors pg_restore went past:", rr.IgnoredErrors)
		for _, w := range rr.Warnings {
			fmt.Fprintf(env.Stdout, "\n  %s", w)
		}
	}
	fmt.Fprintln(env.Stdout)
	return nil
}
