package cli

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// Cloud drives: `storage add gdrive|dropbox|onedrive` and `storage signin`
// sign in through the system browser (docs/STORAGE.md).

// cloudFlags are the cloud drives' `storage add` options.
type cloudFlags struct {
	folder, clientID string
	clientSecret     string // from --secret-stdin
	noBrowser        bool
}

func (f *cloudFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.folder, "folder", "", "gdrive, dropbox, onedrive: the folder for backups (default PgSafe; created if missing)")
	fl.StringVar(&f.clientID, "client-id", "", "gdrive, dropbox, onedrive: your own OAuth client ID instead of this PgSafe's")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "gdrive, dropbox, onedrive: print the sign-in link instead of opening the browser")
}

// opener shows the authorization URL: in the system browser (the link is
// printed too, in case none opens), or only printed with --no-browser.
func (f cloudFlags) opener(env *Env, service string) func(string) error {
	return func(url string) error {
		if f.noBrowser {
			fmt.Fprintf(env.Stderr, "Open this link in a browser to sign in to %s, and allow PgSafe:\n  %s\nWaiting for the browser (5 minutes)…\n", service, url)
			return nil
		}
		fmt.Fprintf(env.Stderr, "Sign in to %s in the browser window that opened. If none did, open:\n  %s\nWaiting for the browser (5 minutes)…\n", service, url)
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(env.Stderr, "(could not open a browser: %v)\n", err)
		}
		return nil
	}
}

func openBrowser(url string) error {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		c = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		c = exec.Command("open", url)
	default:
		c = exec.Command("xdg-open", url)
	}
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait()
	return nil
}

func serviceName(kind string) string {
	return map[string]string{"gdrive": "Google Drive", "dropbox": "Dropbox", "onedrive": "OneDrive"}[kind]
}

// addCloud signs in and adds a cloud drive storage.
func addCloud(env *Env, keyFile, name, kind string, f cloudFlags) error {
	e, err := openEngine(env, keyFile)
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.AddCloudStorage(env.Ctx, engine.CloudInput{Name: name, Kind: kind, Folder: f.folder, ClientID: f.clientID, ClientSecret: f.clientSecret},
		f.opener(env, serviceName(kind))); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added storage %s (signed in to %s; tested: write, read back, delete ✓)\n", name, serviceName(kind))
	return nil
}

func storageSignInCmd(env *Env) *cobra.Command {
	var keyFile string
	var f cloudFlags
	cmd := &cobra.Command{
		Use:   "signin NAME [--no-browser]",
		Short: "Sign a cloud drive storage (Google Drive, Dropbox, OneDrive) in again, after its permission was revoked or expired",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.SignInStorageAgain(env.Ctx, args[0], f.opener(env, "the storage's account")); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "storage %s is signed in again (tested: write, read back, delete ✓)\n", args[0])
			return nil
		}),
	}
	cmd.Flags().BoolVar(&f.noBrowser, "no-browser", false, "print the sign-in link instead of opening the browser")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

var errNoName = errors.New("give the storage a --name")
