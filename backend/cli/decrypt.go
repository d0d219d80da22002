package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
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
			"a damaged or truncated file is reported, and then no output file is left behind. Neither after\n" +
			"Ctrl+C or SIGTERM (on Linux the output has no name until it is complete, so even kill -9\n" +
			"leaves none; elsewhere a killed decrypt can leave a plaintext .NAME.pgsafe-part-* beside it).\n" +
			"--out - writes to standard output.",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) (err error) {
			// Ctrl+C or SIGTERM stops the copy, and the partial output is
			// removed (on Linux it never had a name: even kill -9 leaves none).
			ctx, stop := interruptible(env)
			defer stop()
			defer func() { err = interruptedExit(ctx, err) }()
			if in == "" || out == "" {
				return errors.New("give --in BACKUP.pgsafe and --out FILE (or --out - for standard output)")
			}
			if keyFile != "" && kit != "" {
				return errors.New("give --key-file or --recovery-kit, not both")
			}
			if kit != "" {
				keyFile = kit
			}
			home, err := engine.SettingsDir()
			if err != nil {
				return err
			}
			src, err := os.Open(in)
			if err != nil {
				return err
			}
			defer src.Close()
			// A stop also ends a read that waits (a pipe, a slow disk).
			defer context.AfterFunc(ctx, func() { src.Close() })()
			// Read the header first: a file that is not a backup fails before
			// any key is opened. It is kept rather than read again, so --in
			// may be a pipe.
			var head bytes.Buffer
			h, err := format.ParseHeader(io.TeeReader(src, &head))
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			mk, _, err := keys.Open(env.Ctx, keys.Options{Home: home, KeyFile: keyFile, Passphrase: newPassphraseSource(env, stdinPass).ask()})
			if err != nil {
				return err
			}
			defer mk.Wipe()
			r, _, err := format.NewReader(io.MultiReader(&head, src), keys.Keys{mk})
			if err != nil {
				return fmt.Errorf("%s: %w", in, stopped(ctx, err))
			}
			r = ctxReader{ctx: ctx, r: r}
			if out == "-" {
				if _, err := io.Copy(env.Stdout, r); err != nil {
					return fmt.Errorf("%s: %w (the output so far is incomplete: discard it)", in, stopped(ctx, err))
				}
				return nil
			}
			n, err := writeAtomically(out, force, r)
			if err != nil {
				return fmt.Errorf("%s: %w (no output was written)", in, stopped(ctx, err))
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

// writeAtomically writes r to a new file beside path (unnamed where the OS
// allows, see partFile) and names it path at the end: on any error, a
// cancelled context included, nothing is left at path (an existing file is
// untouched) and no partial file is left beside it.
func writeAtomically(path string, force bool, r io.Reader) (_ int64, err error) {
	if _, err := os.Lstat(path); err == nil && !force {
		return 0, fmt.Errorf("%s already exists: choose another name, or --force to replace it", path)
	}
	f, err := createPart(path)
	if err != nil {
		return 0, err
	}
	defer f.abort()
	n, err := io.Copy(f, r)
	if err != nil {
		return 0, err
	}
	if err := f.commit(force); err != nil {
		return 0, err
	}
	return n, nil
}

// stopped reports err as the stop it is when ctx is done (closing the input
// on a stop makes the read fail with a confusing "file already closed").
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("stopped: %w", context.Cause(ctx))
	}
	return err
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, fmt.Errorf("stopped: %w", context.Cause(c.ctx))
	}
	return c.r.Read(p)
}
