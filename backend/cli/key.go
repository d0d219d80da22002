package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/keys"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		key := &cobra.Command{Use: "key", Short: "The master key: its ID, recovery kits, first-run setup"}
		key.AddCommand(keyIDCmd(env), keyInitCmd(env), keyExportCmd(env), keyImportCmd(env))
		root.AddCommand(key)
	})
}

func keyIDCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print this machine's master key ID and where the key lives",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := engine.SettingsDir()
			if err != nil {
				return err
			}
			id, src, err := keys.Identify(env.Ctx, keys.Options{Home: home, KeyFile: keyFile})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, map[string]string{"key_id": id.String(), "source": string(src.Kind), "path": src.Path})
			}
			fmt.Fprintf(env.Stdout, "%s (%s)\n", id, src)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func keyInitCmd(env *Env) *cobra.Command {
	var protected string
	var stdinPass, generate bool
	cmd := &cobra.Command{
		Use:   "init [--key-file-protected FILE [--generate-passphrase]]",
		Short: "Create this machine's master key (in the keychain, or in a passphrase-protected file)",
		Long: "Creates the master key on first use: in the OS keychain, or, with --key-file-protected, in a\n" +
			"new passphrase-protected key file for machines without a usable keychain. Export a recovery\n" +
			"kit afterwards (`pgsafe key export`): without the key, backups cannot be read.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := engine.EnsureSettingsDir()
			if err != nil {
				return err
			}
			if protected != "" {
				pass, err := newPassphraseSource(env, stdinPass).chooseNew(generate)
				if err != nil {
					return err
				}
				defer pass.Wipe()
				id, err := keys.InitProtectedKeyFile(env.Ctx, home, protected, nil, pass)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "created master key %s in %s (protected by your passphrase)\n", id, protected)
				if generate {
					printGenerated(env.Stderr, pass)
				}
				return nil
			}
			if generate {
				return errors.New("--generate-passphrase is for --key-file-protected (the keychain needs none)")
			}
			mk, src, err := keys.Open(env.Ctx, keys.Options{Home: home, CreateIfMissing: true})
			if err != nil {
				return err
			}
			defer mk.Wipe()
			fmt.Fprintf(env.Stdout, "master key %s (%s)\n", mk.ID(), src)
			return nil
		},
	}
	cmd.Flags().StringVar(&protected, "key-file-protected", "", "keep the key in this new passphrase-protected file instead of the keychain")
	cmd.Flags().BoolVar(&stdinPass, "passphrase-stdin", false, "read the passphrase from one line of standard input")
	cmd.Flags().BoolVar(&generate, "generate-passphrase", false, "generate the passphrase (six random words), print it once")
	return cmd
}

func keyExportCmd(env *Env) *cobra.Command {
	var out, keyFile string
	var stdinPass, print, generate bool
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write a recovery kit: the master key wrapped with a passphrase",
		Long: "Writes a recovery kit: this machine's master key, wrapped with a passphrase you choose\n" +
			"(argon2id + AES-256-GCM). Keep the kit and the passphrase safe, and apart: together they\n" +
			"open every backup. --print also prints the kit's text for paper (it has per-line checksums).\n" +
			"The passphrase must be hard to guess (estimated with zxcvbn: at least 10^12 guesses);\n" +
			"--generate-passphrase makes one of six random words (EFF's large list) and prints it once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("give the kit's file: --out kit.pgsafe-key")
			}
			ps := newPassphraseSource(env, stdinPass)
			e, err := engine.Open(env.Ctx, engine.Options{KeyFile: keyFile, Passphrase: ps.ask(), Log: env.Log})
			if err != nil {
				return err
			}
			defer e.Close()
			pass, err := ps.chooseNew(generate)
			if err != nil {
				return err
			}
			defer pass.Wipe()
			kit, err := e.ExportKit(env.Ctx, pass, out)
			if err != nil {
				return err
			}
			if print {
				env.Stdout.Write(kit.Text())
			}
			fmt.Fprintf(env.Stderr, "recovery kit of key %s written to %s\n", kit.KeyID, out)
			if generate {
				printGenerated(env.Stderr, pass)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the kit file to write (never replaces a file)")
	cmd.Flags().BoolVar(&stdinPass, "passphrase-stdin", false, "read the passphrase from one line of standard input")
	cmd.Flags().BoolVar(&print, "print", false, "also print the kit's text on standard output")
	cmd.Flags().BoolVar(&generate, "generate-passphrase", false, "generate the passphrase (six random words), print it once on stderr")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func keyImportCmd(env *Env) *cobra.Command {
	var replace, stdinPass bool
	var protected string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Put a recovery kit's key into this machine's keychain",
		Long: "Opens a recovery kit (a file, `-` for standard input, or its lines typed back) with its\n" +
			"passphrase and stores its key in this machine's keychain (or, with --key-file-protected, in a\n" +
			"protected key file). A different key already here is kept unless --replace.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := engine.EnsureSettingsDir()
			if err != nil {
				return err
			}
			path := args[0]
			ps := newPassphraseSource(env, stdinPass)
			if path == "-" {
				if stdinPass {
					return errors.New("the kit and the passphrase cannot both come from standard input")
				}
				tmp, err := copyStdin(env.Stdin, home)
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				path = tmp
			}
			mk, kit, err := keys.OpenKitFile(env.Ctx, path, ps.ask())
			if err != nil {
				return err
			}
			defer mk.Wipe()
			res, err := keys.Import(env.Ctx, kit, mk, keys.ImportOptions{Home: home, Replace: replace, ProtectedKeyFile: protected, From: args[0]})
			if err != nil {
				return err
			}
			// Now that this machine has the key, the import goes into its audit log.
			if e, err := engine.Open(env.Ctx, engine.Options{Log: env.Log}); err == nil {
				e.RecordEvent(env.Ctx, engine.Event{Action: "key.imported", Target: res.KeyID.String(),
					Fields: map[string]string{"source": res.Source.String(), "replaced": fmt.Sprint(res.Previous != nil)}})
				e.Close()
			}
			switch {
			case res.Unchanged:
				fmt.Fprintf(env.Stdout, "key %s is already this machine's key\n", res.KeyID)
			case res.Previous != nil:
				fmt.Fprintf(env.Stdout, "imported key %s (%s), replacing key %s\n", res.KeyID, res.Source, res.Previous)
			default:
				fmt.Fprintf(env.Stdout, "imported key %s (%s)\n", res.KeyID, res.Source)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&replace, "replace", false, "replace a different key already on this machine")
	cmd.Flags().BoolVar(&stdinPass, "passphrase-stdin", false, "read the passphrase from one line of standard input")
	cmd.Flags().StringVar(&protected, "key-file-protected", "", "keep the key in this new protected key file instead of the keychain")
	return cmd
}

// copyStdin saves a kit read from stdin to a private temporary file (the kit is
// passphrase-protected; the file is removed after use).
func copyStdin(r io.Reader, home string) (string, error) {
	f, err := os.CreateTemp(home, ".kit-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(f, io.LimitReader(r, 64<<10)); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return filepath.Clean(f.Name()), nil
}
