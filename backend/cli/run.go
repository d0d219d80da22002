package cli

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/schedule"
)

func init() {
	register(func(root *cobra.Command, env *Env) { root.AddCommand(runCmd(env)) })
}

func runCmd(env *Env) *cobra.Command {
	var keyFile string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "run [--grace DURATION]",
		Short: "Run the schedules headless until stopped (SIGTERM or Ctrl+C); logs on stderr",
		Long: "Runs every database's schedule, as the app does in the tray, without a window: scheduled\n" +
			"backups (each in the history as \"scheduled\"), then retention, automatic drills and\n" +
			"notifications as after any backup, and the databases' health checks. Missed slots run\n" +
			"once at start; failed runs are retried (settings schedule.retries, schedule.retry_delay);\n" +
			"at most schedule.max_parallel run at once.\n" +
			"On SIGTERM or Ctrl+C it starts nothing new and gives a backup in progress --grace to\n" +
			"finish, then cancels it (recorded as cancelled, nothing half-written kept) and exits 0.\n" +
			"A second signal cancels at once. Only one scheduler runs per settings directory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			g := grace
			if g <= 0 {
				g = -1 // cancel at once
			}
			e, err := engine.Open(env.Ctx, engine.Options{KeyFile: keyFile, Log: log})
			if err != nil {
				return err
			}
			defer e.Close()
			// Refuse before anything starts or is logged if another process
			// runs the schedules.
			claim, err := e.ClaimScheduler()
			if err != nil {
				return err
			}
			defer claim.Release()

			ctx, stop := context.WithCancel(env.Ctx)
			defer stop()
			defer onSignals(func(sig os.Signal) {
				log.Info("stopping: no new backups start; a backup in progress may finish", "signal", sig.String(), "grace", grace)
				stop()
			}, func(sig os.Signal) {
				log.Warn("stopping now: cancelling the backups in progress", "signal", sig.String())
				for _, r := range e.RunningBackups() {
					e.CancelBackup(r.DatabaseName)
				}
			})()

			list, err := e.Schedules(ctx)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				log.Warn("no database has a schedule yet; waiting for one (set one with `pgsafe schedule set NAME --daily 02:00`)")
			}
			for _, s := range list {
				log.Info("schedule", "database", s.Database, "schedule", s.Description, "next_run", s.Schedule.NextRunAt.Local().Format(time.DateTime))
			}
			if until, paused, err := e.SchedulesPaused(ctx); err == nil && paused {
				log.Warn("schedules are paused; `pgsafe schedule resume` ends the pause", "until", until)
			}
			log.Info("PgSafe scheduler running", "home", e.Home(), "pid", os.Getpid())
			// The databases' connectivity checks (down/up notifications) and
			// the drills that are due run beside the schedules, as in the app.
			var health sync.WaitGroup
			health.Add(2)
			go func() {
				defer health.Done()
				e.NewHealthMonitor(nil).Run(ctx, 15*time.Second)
			}()
			go func() {
				defer health.Done()
				e.RunDrillLoop(ctx, 15*time.Minute)
			}()
			err = e.RunScheduler(ctx, engine.SchedulerOptions{Grace: g, Claim: claim})
			stop()
			health.Wait()
			if err != nil {
				return err
			}
			log.Info("PgSafe scheduler stopped cleanly")
			return nil
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", schedule.DefaultGrace, "on stop, how long a backup in progress may finish before it is cancelled")
	keyFileFlag(cmd, &keyFile)
	return cmd
}
