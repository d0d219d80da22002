package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/paths"
)

func init() {
	register(func(root *cobra.Command, env *Env) { root.AddCommand(decryptCmd(env)) })
}

func decryptCmd(env *Env) *cobra.Command {
	var in, out, keyFile, kit string
	var force, stdinPass bool
	cmd := &cobra.Command{
		Use:   "decrypt --in FILE --out FILE [--key-file F | --recovery-kit F]",
		Short: "Turn a PgSafe backup file into the plain pg_dump archive",
		Long: "Decrypts and decompresses a backup file (docs/FORMAT.md) with this machine's key, a key file,\n" +
			"or a recovery kit, so that pg_restore can read it. Every chunk is authenticated: a wrong key,\n" +
			"a damaged or truncated file is reported, and then no output file is left behind.\n" +
			"--out - writes to standard output.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return errors.New("give --in BACKUP.pgsafe and --out FILE (or --out - for standard output)")
			}
			if keyFile != "" && kit != "" {
				return errors.New("give --key-file or --recovery-kit, not both")
			}
			if kit != "" {
				keyFile = kit
			}
			home, err := paths.Home()
			if err != nil {
				return err
			}
			src, err := os.Open(in)
			if err != nil {
				return err
			}
			defer src.Close()
			// Read the header first: a file that is not a backup fails before
			// any key is opened.
			h, err := format.ParseHeader(src)
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if _, err := src.Seek(0, io.SeekStart); err != nil {
				return err
			}
			mk, _, err := keys.Open(env.Ctx, keys.Options{Home: home, KeyFile: keyFile, Passphrase: newPassphraseSource(env, stdinPass).ask()})
			if err != nil {
				return err
			}
			defer mk.Wipe()
			r, _, err := format.NewReader(src, keys.Keys{mk})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if out == "-" {
				if _, err := io.Copy(env.Stdout, r); err != nil {
					return fmt.Errorf("%s: %w (the output so far is incomplete: discard it)", in, err)
				}
				return nil
			}
			n, err := writeAtomically(out, force, r)
			if err != nil {
				return fmt.Errorf("%s: %w (no output was written)", in, err)
			}
			fmt.Fprintf(env.Stderr, "backup %s decrypted: %d bytes in %s\n", h.BackupID, n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "the backup file (.pgsafe)")
	cmd.Flags().StringVar(&out, "out", "", "the pg_dump archive to write, or - for standard output")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "use this key file (or recovery kit) instead of this machine's key")
	cmd.Flags().StringVar(&kit, "recovery-kit", "", "use this recovery kit (asks its passphrase)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	cmd.Flags().BoolVar(&stdinPass, "passphrase-stdin", false, "read the kit's passphrase from one line of standard input")
	return cmd
}

// writeAtomically writes r to a temporary file beside path, then renames it:
// on any error nothing is left at path (and an existing file is untouched).
func writeAtomically(path string, force bool, r io.Reader) (int64, error) {
	if _, err := os.Lstat(path); err == nil && !force {
		return 0, fmt.Errorf("%s already exists: choose another name, or --force to replace it", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return n, nil
}
