package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		s := &cobra.Command{Use: "schedule", Short: "When a database is backed up (run by the PgSafe agent or `pgsafe run`)"}
		s.AddCommand(scheduleSetCmd(env), scheduleShowCmd(env), scheduleClearCmd(env), schedulePauseCmd(env), scheduleResumeCmd(env))
		root.AddCommand(s)
	})
}

func scheduleSetCmd(env *Env) *cobra.Command {
	var keyFile, every, daily, weekly, monthly, cronExpr, tz string
	cmd := &cobra.Command{
		Use:   "set NAME --every DURATION | --daily HH:MM | --weekly DAYS@HH:MM | --monthly D@HH:MM | --cron EXPR [--tz ZONE]",
		Short: "Set a database's schedule (replacing any)",
		Long: "Exactly one of:\n" +
			"  --every 6h            every interval (at least 1m; 90m, 1h30m, 1d) after the previous slot\n" +
			"  --daily 02:30         every day at that time\n" +
			"  --weekly mon,fri@02:30  on those days (mon…sun, or 0…7 with 0 and 7 = Sunday)\n" +
			"  --monthly 31@02:30    on that day of the month; 29–31 mean the last day in shorter months\n" +
			"  --cron \"0 3 * * *\"    a cron expression (five fields, or six with seconds first)\n" +
			"Times are in --tz (an IANA zone such as Europe/Berlin), or the machine's local time.\n" +
			"On the day clocks go forward a time that does not exist runs when the clocks jump; on the\n" +
			"day they go back a time that happens twice runs once (docs/SCHEDULE.md).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := scheduleFromFlags(every, daily, weekly, monthly, cronExpr, tz)
			if err != nil {
				return err
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.SetSchedule(env.Ctx, args[0], cfg); err != nil {
				return err
			}
			info, err := e.Schedule(env.Ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: %s; next run %s\n", args[0], info.Description, formatRun(info.Schedule.NextRunAt, info))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&every, "every", "", "interval, e.g. 6h")
	f.StringVar(&daily, "daily", "", "time of day, HH:MM")
	f.StringVar(&weekly, "weekly", "", "DAYS@HH:MM, e.g. mon,wed,fri@02:30")
	f.StringVar(&monthly, "monthly", "", "D@HH:MM, e.g. 1@03:00")
	f.StringVar(&cronExpr, "cron", "", "cron expression, e.g. \"0 3 * * *\"")
	f.StringVar(&tz, "tz", "", "IANA time zone, e.g. Europe/Berlin (default: local time)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// scheduleFromFlags turns the one kind flag given into a schedule.
func scheduleFromFlags(every, daily, weekly, monthly, cronExpr, tz string) (store.ScheduleConfig, error) {
	// Each flag is named after the kind of schedule it sets.
	kind, spec, set := "", "", 0
	for _, f := range []struct{ kind, spec string }{
		{"every", every}, {"daily", daily}, {"weekly", weekly}, {"monthly", monthly}, {"cron", cronExpr},
	} {
		if f.spec != "" {
			kind, spec = f.kind, f.spec
			set++
		}
	}
	if set != 1 {
		return store.ScheduleConfig{}, errors.New("give exactly one of --every, --daily, --weekly, --monthly or --cron")
	}
	cfg, err := engine.ParseScheduleSpec(kind, spec, tz)
	if err != nil {
		return cfg, fmt.Errorf("--%s: %w", kind, err)
	}
	return cfg, nil
}

// scheduleJSON is `pgsafe schedule show --json`.
type scheduleJSON struct {
	Database    string          `json:"database"`
	Enabled     bool            `json:"enabled"`
	Kind        string          `json:"kind"`
	Spec        string          `json:"spec"`
	Description string          `json:"description"`
	Every       string          `json:"every,omitempty"`
	At          string          `json:"at,omitempty"`
	Weekdays    []int           `json:"weekdays,omitempty"`
	DayOfMonth  int             `json:"day_of_month,omitempty"`
	Cron        string          `json:"cron,omitempty"`
	TimeZone    string          `json:"time_zone"` // "" = local time
	LastRunAt   *time.Time      `json:"last_run_at"`
	NextRunAt   *time.Time      `json:"next_run_at"`
	LastBackup  *lastBackupJSON `json:"last_backup"`
	Paused      bool            `json:"paused"`
	PausedUntil *time.Time      `json:"paused_until,omitempty"`
	Problem     string          `json:"problem,omitempty"`
}

type lastBackupJSON struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Error   string    `json:"error,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toScheduleJSON(info engine.ScheduleInfo, pausedUntil time.Time, paused bool) scheduleJSON {
	c := info.Schedule.ScheduleConfig
	j := scheduleJSON{Database: info.Database, Enabled: c.Enabled, Kind: c.Kind, Spec: info.Spec, Description: info.Description,
		At: c.At, Weekdays: c.Weekdays, DayOfMonth: c.DayOfMonth, Cron: c.Cron, TimeZone: c.TimeZone,
		LastRunAt: timePtr(info.Schedule.LastRunAt), NextRunAt: timePtr(info.Schedule.NextRunAt),
		Paused: paused, PausedUntil: timePtr(pausedUntil), Problem: info.Problem}
	j.Every = info.Interval()
	if b := info.LastBackup; b != nil {
		j.LastBackup = &lastBackupJSON{ID: b.ID, Status: string(b.Status), Started: b.StartedAt, Error: b.Error}
	}
	return j
}

// formatRun shows a run time in the schedule's zone.
func formatRun(t time.Time, info engine.ScheduleInfo) string {
	if t.IsZero() {
		return "none"
	}
	return info.InZone(t).Format("2006-01-02 15:04:05 MST")
}

func scheduleShowCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a database's schedule: kind, spec, last and next run",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			info, err := e.Schedule(env.Ctx, args[0])
			if err != nil {
				return err
			}
			until, paused, err := e.SchedulesPaused(env.Ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, toScheduleJSON(info, until, paused))
			}
			return printSchedule(env.Stdout, info, until, paused)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func printSchedule(w io.Writer, info engine.ScheduleInfo, until time.Time, paused bool) error {
	c := info.Schedule.ScheduleConfig
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	zone := c.TimeZone
	if zone == "" {
		zone = "local time (" + time.Local.String() + ")"
	}
	last := "never"
	if !info.Schedule.LastRunAt.IsZero() {
		last = formatRun(info.Schedule.LastRunAt, info)
	}
	if b := info.LastBackup; b != nil {
		last += fmt.Sprintf(" (last scheduled backup %s: %s", b.ID, b.Status)
		if b.Error != "" {
			last += ": " + b.Error
		}
		last += ")"
	}
	next := formatRun(info.Schedule.NextRunAt, info)
	if !info.Schedule.NextRunAt.IsZero() {
		if d := time.Until(info.Schedule.NextRunAt); d > 0 {
			next += " (in " + d.Round(time.Second).String() + ")"
		} else {
			next += " (due: runs when the PgSafe agent or `pgsafe run` is running)"
		}
	}
	fmt.Fprintf(tw, "database:\t%s\n", info.Database)
	fmt.Fprintf(tw, "kind:\t%s\n", c.Kind)
	fmt.Fprintf(tw, "spec:\t%s\n", info.Spec)
	fmt.Fprintf(tw, "schedule:\t%s\n", info.Description)
	fmt.Fprintf(tw, "time zone:\t%s\n", zone)
	fmt.Fprintf(tw, "last run:\t%s\n", last)
	fmt.Fprintf(tw, "next run:\t%s\n", next)
	if paused {
		p := "until resumed (`pgsafe schedule resume`)"
		if !until.IsZero() {
			p = "until " + until.Local().Format("2006-01-02 15:04:05 MST")
		}
		fmt.Fprintf(tw, "paused:\t%s\n", p)
	}
	if info.Problem != "" {
		fmt.Fprintf(tw, "problem:\t%s\n", info.Problem)
	}
	return tw.Flush()
}

func scheduleClearCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "clear NAME",
		Short: "Remove a database's schedule (its backups and settings stay)",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.ClearSchedule(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: no schedule; back it up with `pgsafe backup %s`\n", args[0], args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func schedulePauseCmd(env *Env) *cobra.Command {
	var keyFile string
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "pause [--for DURATION]",
		Short: "Pause every schedule (for a while, or until `pgsafe schedule resume`)",
		Long: "Backups in progress go on; no new scheduled backup starts. Slots missed during the pause\n" +
			"run once when it ends. The app and `pgsafe run` see the pause within half a minute.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if d < 0 {
				return errors.New("--for must be positive (leave it out to pause until resumed)")
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.PauseSchedules(env.Ctx, d); err != nil {
				return err
			}
			if d > 0 {
				fmt.Fprintf(env.Stdout, "schedules paused until %s\n", time.Now().Add(d).Format("2006-01-02 15:04:05 MST"))
			} else {
				fmt.Fprintln(env.Stdout, "schedules paused until `pgsafe schedule resume`")
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&d, "for", 0, "how long, e.g. 2h (default: until resumed)")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func scheduleResumeCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "resume",
		Short: "End a pause: slots missed during it run once",
		Args:  cobra.NoArgs,
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.ResumeSchedules(env.Ctx); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "schedules resumed")
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}
