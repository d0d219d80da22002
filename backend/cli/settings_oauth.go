package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// `pgsafe settings oauth`: the user's own OAuth clients for the cloud
// drives, as Settings → Cloud drives in the window (docs/STORAGE.md).

func settingsOAuthCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "oauth",
		Short: "Your own OAuth clients for Google Drive, Dropbox and OneDrive (list them; set, clear)",
		Long: `Each cloud drive signs in with an OAuth client: this PgSafe's, when it was built with one,
or your own. Your own is used by the next sign-in (storage add, storage signin); storages
already signed in keep the client they signed in with. The client secret is kept encrypted
and never shown again.`,
		Args: cobra.NoArgs,
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, _ []string) error {
			cs, err := e.OAuthClients(env.Ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KIND\tSERVICE\tTHIS BUILD\tYOUR OWN CLIENT ID\tSECRET")
			for _, c := range cs {
				built, own, secret := "built in", c.ClientID, "-"
				if !c.BuiltIn {
					built = "none"
				}
				if own == "" {
					own = "-"
				}
				if c.SecretSet {
					secret = "saved"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Service, built, own, secret)
			}
			return w.Flush()
		}),
	}
	keyFileFlag(cmd, &keyFile)
	cmd.AddCommand(settingsOAuthSetCmd(env), settingsOAuthClearCmd(env))
	return cmd
}

func settingsOAuthSetCmd(env *Env) *cobra.Command {
	var (
		keyFile, clientID string
		secretStdin       bool
	)
	cmd := &cobra.Command{
		Use:   "set gdrive|dropbox|onedrive --client-id ID [--client-secret-stdin]",
		Short: "Use your own OAuth client for a cloud drive's next sign-in",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if clientID == "" {
				return errors.New("give your client's ID with --client-id")
			}
			var secret string
			if secretStdin {
				var err error
				if secret, err = readPasswordLine(env.Stdin); err != nil {
					return err
				}
			}
			if err := e.SetOAuthClient(env.Ctx, args[0], clientID, secret); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "your own %s client is saved: the next sign-in uses it (storages already signed in keep theirs)\n", serviceName(args[0]))
			return nil
		}),
	}
	cmd.Flags().StringVar(&clientID, "client-id", "", "your OAuth client's ID")
	cmd.Flags().BoolVar(&secretStdin, "client-secret-stdin", false, "read the client secret (Google desktop clients have one; a OneDrive client may) from the first line of stdin")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func settingsOAuthClearCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "clear gdrive|dropbox|onedrive",
		Short: "Forget your own OAuth client for a cloud drive: the next sign-in uses this PgSafe's",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.ClearOAuthClient(env.Ctx, args[0]); err != nil {
				return err
			}
			if service, builtIn := engine.BuildHasClient(args[0]); !builtIn {
				fmt.Fprintf(env.Stdout, "your own %s client is cleared; this PgSafe has none of its own, so signing in to %s needs a client again\n", service, service)
				return nil
			}
			fmt.Fprintf(env.Stdout, "your own %s client is cleared: the next sign-in uses this PgSafe's\n", serviceName(args[0]))
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}
