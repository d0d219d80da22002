package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		n := &cobra.Command{Use: "notify", Short: "Notifiers: who hears about failed backups (docs/NOTIFY.md)"}
		a := &cobra.Command{Use: "add", Short: "Add a notifier"}
		a.AddCommand(notifyAddHeartbeatCmd(env))
		n.AddCommand(a, notifyListCmd(env), notifyTestCmd(env), notifyRemoveCmd(env))
		root.AddCommand(n)
	})
}

func notifyAddHeartbeatCmd(env *Env) *cobra.Command {
	var (
		keyFile, name, service, database string
		urlStdin                         bool
		events                           []string
	)
	cmd := &cobra.Command{
		Use:   "heartbeat --name N --service healthchecks|uptime-kuma|url --url-stdin [--database DB]",
		Short: "Ping a monitoring service when each backup starts, succeeds and fails",
		Long: `A heartbeat pings a monitoring service (healthchecks.io, an Uptime Kuma push monitor,
or any URL) at the start, success and failure of every database's backup: the service
alerts you when the pings stop coming, even if PgSafe itself stopped running.

The ping URL carries the check's token: give it on the first line of stdin (--url-stdin),
never on the command line. It is kept encrypted.

  healthchecks  <ping-url>/start, <ping-url> on success, <ping-url>/fail with the reason
  uptime-kuma   the push URL with ?status=up&msg=OK&ping=MS, or ?status=down&msg=REASON
                (Uptime Kuma has no start ping)
  url           GET <url>?event=start|success, POST <url>?event=failure with the reason

{database} in the URL is replaced by each database's name (e.g. a healthchecks slug URL,
https://hc-ping.com/<ping-key>/{database}?create=1), so one notifier serves every database.
Without it, give --database so the check hears about that one database only.`,
		Example: `  printf '%s\n' https://hc-ping.com/0f2c…/{database}?create=1 | pgsafe notify add heartbeat --name hc --service healthchecks --url-stdin
  printf '%s\n' "$KUMA_PUSH_URL" | pgsafe notify add heartbeat --name kuma-shop --service uptime-kuma --url-stdin --database Shop`,
		Args: cobra.NoArgs,
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, _ []string) error {
			if !urlStdin {
				return errors.New("give the ping URL on the first line of stdin with --url-stdin (it holds the check's token, so it never goes on the command line)")
			}
			url, err := readLine(env.Stdin, "--url-stdin: stdin holds no URL (give it on the first line)")
			if err != nil {
				return err
			}
			in := engine.NotifierInput{Name: name, Kind: "heartbeat", Events: events,
				Settings: map[string]string{"service": service, "database": database},
				Secrets:  map[string]string{"url": url}}
			if _, err := e.AddNotifier(env.Ctx, in.Config()); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "notifier %s added ✓ (pgsafe notify test %q sends a test ping)\n", name, name)
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the notifier's name")
	cmd.Flags().StringVar(&service, "service", "", "healthchecks, uptime-kuma or url")
	cmd.Flags().StringVar(&database, "database", "", "ping for this database's backups only")
	cmd.Flags().BoolVar(&urlStdin, "url-stdin", false, "read the ping URL from the first line of stdin")
	cmd.Flags().StringSliceVar(&events, "events", nil, "backup.started, backup.succeeded, backup.failed (default: all three)")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("service")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func notifyListCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the notifiers (secrets are never shown)",
		Args:  cobra.NoArgs,
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, _ []string) error {
			ns, err := e.Notifiers(env.Ctx)
			if err != nil {
				return err
			}
			if len(ns) == 0 {
				fmt.Fprintln(env.Stdout, "no notifier")
			}
			for _, n := range ns {
				line := n.Name + "\t" + n.Kind
				for _, k := range []string{"service", "database"} {
					if v := n.Settings[k]; v != "" {
						line += "\t" + k + "=" + v
					}
				}
				if set := engine.NotifierSecretsSet(n); len(set) > 0 {
					line += "\t" + strings.Join(set, ", ") + " set"
				}
				if len(n.Events) > 0 {
					line += "\t" + strings.Join(n.Events, ", ")
				}
				fmt.Fprintln(env.Stdout, line)
			}
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func notifyTestCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Send a test notification through a notifier now",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.TestNotifier(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "test sent through %s ✓ (check that it arrived)\n", args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func notifyRemoveCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a notifier",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.RemoveNotifier(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "notifier %s removed\n", args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

// readLine is the first line of r, which must not be empty.
func readLine(r io.Reader, empty string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New(empty)
	}
	return line, nil
}
