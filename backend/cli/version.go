package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "version",
			Short: "Print version, commit and Go version",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return printVersion(env, asJSON)
			},
		}
		cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
		root.AddCommand(cmd)
		// `pgsafe --version` / `-v` prints the same as `pgsafe version`.
		root.Flags().BoolP("version", "v", false, "print version and exit")
		root.RunE = func(cmd *cobra.Command, args []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				return printVersion(env, false)
			}
			return cmd.Help()
		}
	})
}

func printVersion(env *Env, asJSON bool) error {
	bi := engine.BuildInfo()
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(bi)
	}
	_, err := fmt.Fprintf(env.Stdout, "PgSafe %s (commit %s, %s, %s)\n", bi.Version, bi.Commit, bi.GoVersion, bi.Platform)
	return err
}
