package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/ui"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		root.AddCommand(runCmd(env))
		root.AddCommand(agentCmd(env))
	})
}

func runCmd(env *Env) *cobra.Command {
	var keyFile string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "run [--grace DURATION]",
		Short: "Run PgSafe's agent headless until stopped (SIGTERM or Ctrl+C); logs on stderr",
		Long: "Runs PgSafe's agent without a tray icon, for servers and containers: every database's\n" +
			"schedule (each backup in the history as \"scheduled\"), then retention, automatic drills and\n" +
			"notifications as after any backup, and the databases' health checks. Missed slots run\n" +
			"once at start; failed runs are retried (settings schedule.retries, schedule.retry_delay);\n" +
			"at most schedule.max_parallel run at once. It serves the local API (docs/AGENT.md), so a\n" +
			"window or a command can follow and start jobs.\n" +
			"Unlike `pgsafe agent`, it exits 1 if the key and settings do not open.\n" +
			"On SIGTERM or Ctrl+C it starts nothing new and gives a backup in progress --grace to\n" +
			"finish, then cancels it (recorded as cancelled, nothing half-written kept) and exits 0.\n" +
			"A second signal cancels at once. Only one agent runs per settings directory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// A server's agent never asks for updates on its own (no one would see them).
			return runAgent(env, agent.Options{Strict: true, NoUpdateChecks: true,
				Core: ui.CoreOptions{KeyFile: keyFile, Grace: graceFlag(grace), HealthEvery: 15 * time.Second}})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", engine.DefaultGrace, "on stop, how long a backup in progress may finish before it is cancelled")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func agentCmd(env *Env) *cobra.Command {
	var noTray, login bool
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "agent [--no-tray]",
		Short: "Run PgSafe's agent: the schedules, the tray icon and the local API the window uses",
		Long: "PgSafe's background process (docs/AGENT.md). It runs the schedules, health checks,\n" +
			"drills, retention and notifications, shows the tray icon when the desktop has a tray, and\n" +
			"serves the window and the command line over a local endpoint only this user can reach.\n" +
			"The window starts it when none runs; Settings can start it at login. It creates the\n" +
			"master key in the keychain on first run. Logs on stderr.\n" +
			"With --no-tray (or when the desktop has no tray) it runs headless, like `pgsafe run`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var trayWait time.Duration
			if login {
				trayWait = 20 * time.Second // the panel may come up after the agent
				// A login item (systemd, launchd) restarts an agent that
				// exits with an error: finding one already running is done.
				if h, ok := agentRunning(env); ok {
					fmt.Fprintf(env.Stderr, "pgsafe: PgSafe's agent already runs (pid %d)\n", h.PID)
					return nil
				}
			}
			runEnv := env
			if login && runtime.GOOS == "windows" {
				// The Run key starts the GUI-subsystem app: no console,
				// nowhere for stderr to go. Log where a face-started
				// agent logs.
				f, err := loginLog()
				if err != nil {
					return err
				}
				defer f.Close()
				logged := *env
				logged.Stderr = f
				runEnv = &logged
			}
			return runAgent(runEnv, agent.Options{Tray: !noTray, TrayWait: trayWait,
				Core: ui.CoreOptions{CreateKey: true, DesktopNotifications: !noTray, Grace: graceFlag(grace)}})
		},
	}
	cmd.Flags().BoolVar(&noTray, "no-tray", false, "no tray icon (servers, containers)")
	cmd.Flags().BoolVar(&login, "login", false, "started at login: wait up to 20 s for the desktop's tray to appear")
	cmd.Flags().DurationVar(&grace, "grace", engine.DefaultGrace, "on stop, how long a backup in progress may finish before it is cancelled")
	cmd.AddCommand(&cobra.Command{
		Use:   "stop",
		Short: "Stop the agent of this settings directory (a backup in flight may finish first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return stopAgent(env)
		},
	})
	return cmd
}

// loginLog is the agent's log file in the settings directory.
func loginLog() (*os.File, error) {
	home, err := engine.EnsureSettingsDir()
	if err != nil {
		return nil, err
	}
	return agent.OpenLog(home)
}

func graceFlag(g time.Duration) time.Duration {
	if g <= 0 {
		return -1 // cancel at once
	}
	return g
}

// runAgent runs the agent in this process, logging on stderr, until a
// signal: the first stops it gracefully, the second cancels the backups in
// progress.
func runAgent(env *Env, opts agent.Options) error {
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts.Log = log
	ctx, stop := context.WithCancel(env.Ctx)
	defer stop()
	var running *agent.Agent
	started := make(chan struct{})
	defer onSignals(func(sig os.Signal) {
		log.Info("stopping: no new backups start; a backup in progress may finish", "signal", sig.String(), "grace", opts.Core.Grace)
		stop()
	}, func(sig os.Signal) {
		log.Warn("stopping now: cancelling the backups in progress", "signal", sig.String())
		select {
		case <-started:
			running.CancelBackups()
		default:
		}
	})()
	return agent.Run(ctx, opts, func(a *agent.Agent) { running = a; close(started) })
}

// agentRunning asks the agent of this settings directory who it is.
func agentRunning(env *Env) (agent.Hello, bool) {
	home, err := engine.SettingsDir()
	if err != nil {
		return agent.Hello{}, false
	}
	c := agent.NewClient(home)
	defer c.Close()
	ctx, cancel := context.WithTimeout(env.Ctx, 10*time.Second)
	defer cancel()
	h, err := c.Hello(ctx)
	return h, err == nil
}

// stopAgent asks the agent to stop and waits until it has (its endpoint
// closes).
func stopAgent(env *Env) error {
	home, err := engine.SettingsDir()
	if err != nil {
		return err
	}
	c := agent.NewClient(home)
	defer c.Close()
	ctx, cancel := context.WithTimeout(env.Ctx, 2*time.Minute)
	defer cancel()
	h, err := c.Hello(ctx)
	if errors.Is(err, agent.ErrNotRunning) {
		fmt.Fprintf(env.Stdout, "PgSafe's agent is not running for %s\n", home)
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Quit(ctx); err != nil {
		return err
	}
	// It exits once the engine is closed: its lock tells.
	if err := agent.WaitExit(ctx, home); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "PgSafe's agent (pid %d) stopped\n", h.PID)
	return nil
}
