package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/store"
)

func init() {
	register(func(root *cobra.Command, env *Env) {
		st := &cobra.Command{Use: "storage", Short: "Where backups are kept"}
		st.AddCommand(storageAddCmd(env), storageListCmd(env), storageTestCmd(env), storageRemoveCmd(env), storageSignInCmd(env))
		root.AddCommand(st)
	})
}

// storageFlags are `storage add`'s options for every kind.
type storageFlags struct {
	name, path                                   string
	endpoint, region, bucket, prefix, class, sse string
	accessKey                                    string
	pathStyle                                    bool
	host, user, sshKey, hostKey, knownHosts      string
	port                                         int
	secretStdin                                  bool
	url, certSHA256                              string
	allowHTTP                                    bool
	lockDays                                     int
	lockMode                                     string
	azureAccount, azureContainer                 string
	sasStdin                                     bool
}

func storageAddCmd(env *Env) *cobra.Command {
	var f storageFlags
	var keyFile string
	var cloud cloudFlags
	cmd := &cobra.Command{
		Use:   "add local|s3|sftp|webdav|azure|gdrive|dropbox|onedrive --name NAME [options]",
		Short: "Add a storage (tested with a small write, read and delete first)",
		Long: `Add a storage.

  local  --path DIR                      a folder (also a mounted NAS share or USB drive)
  s3     --bucket B [--endpoint URL] [--region R] [--prefix P] [--path-style]
         [--storage-class C] [--sse AES256|aws:kms] [--access-key ID]
         [--object-lock-days N [--object-lock-mode governance|compliance]]
         With --object-lock-days every backup is written with S3 Object Lock: no one (not PgSafe,
         not anyone holding its keys) can delete or overwrite it for N days. The bucket must have
         Object Lock enabled.
         The secret key comes from --secret-stdin or AWS_SECRET_ACCESS_KEY (and the access key
         from AWS_ACCESS_KEY_ID when --access-key is not given; AWS_SESSION_TOKEN if set).
  sftp   --host H [--port N] --user U --path DIR [--ssh-key FILE] (--host-key LINE | --known-hosts FILE)
         The password (or, with --ssh-key, the key's passphrase) comes from --secret-stdin.
         Without --host-key or --known-hosts the server's key fingerprint is shown and nothing is
         stored: check it, then pass the printed --host-key line.
  webdav --url URL --user U [--secret-stdin] [--cert-sha256 HEX] [--allow-http]
         A folder on a WebDAV server (Nextcloud: https://HOST/remote.php/dav/files/USER/FOLDER/).
         An http:// address of another machine is refused (the password would travel unencrypted)
         unless --allow-http says the network is trusted; this machine (localhost) needs no flag.
         The password (Nextcloud: an app password) comes from --secret-stdin, else it is asked on
         the terminal. A server with a self-signed certificate is refused with the certificate's
         SHA-256 fingerprint: check it on the server, then pass it with --cert-sha256.
  gdrive | dropbox | onedrive  [--folder PATH] [--no-browser] [--client-id ID [--secret-stdin]]
         Google Drive, Dropbox, OneDrive: sign in in the system browser (with --no-browser the
         link is printed, to open anywhere on this computer); no password is typed into PgSafe.
         The folder (default PgSafe) is created if missing. The OAuth client is --client-id
         (with its client secret from --secret-stdin: Google desktop clients have one), else
         your own from ` + "`pgsafe settings oauth set`" + `, else this PgSafe's.
  azure  --account A --container C [--prefix P] [--endpoint URL] (--secret-stdin | --sas-stdin)
         The storage account's access key comes from --secret-stdin or AZURE_STORAGE_KEY; a SAS
         token (or SAS URL) from --sas-stdin or AZURE_STORAGE_SAS_TOKEN. --endpoint is for Azurite
         (http://127.0.0.1:10000/ACCOUNT) or another cloud's blob endpoint.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if f.name == "" {
				return errNoName
			}
			if serviceName(args[0]) != "" {
				if f.secretStdin {
					if cloud.clientID == "" {
						return errors.New("--secret-stdin is the client secret of your own --client-id here: give --client-id too")
					}
					if cloud.clientSecret, err = f.secret(env); err != nil {
						return err
					}
				}
				return addCloud(env, keyFile, f.name, args[0], cloud)
			}
			c, err := f.config(env, args[0])
			if err != nil {
				return err
			}
			if c.SFTP != nil && c.SFTP.HostKey == "" && c.SFTP.KnownHostsPath == "" {
				return unknownHostKey(env, c.SFTP)
			}
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			if _, err := e.AddStorage(env.Ctx, c); err != nil {
				return err
			}
			if c.S3 != nil && c.S3.ObjectLockDays > 0 {
				mode := c.S3.ObjectLockMode
				if mode == "" {
					mode = "governance"
				}
				fmt.Fprintf(env.Stdout, "added storage %s (tested: write, read back ✓; Object Lock on the bucket ✓)\n"+
					"Every backup on it is kept %d days (%s mode): no one can delete it before, and retention removes it only after.\n",
					f.name, c.S3.ObjectLockDays, mode)
				return nil
			}
			fmt.Fprintf(env.Stdout, "added storage %s (tested: write, read back, delete ✓)\n", f.name)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "a name for this storage")
	fl.StringVar(&f.path, "path", "", "local: the folder; sftp: the folder on the server")
	fl.StringVar(&f.endpoint, "endpoint", "", "s3: the service's URL (empty for AWS); azure: the blob endpoint (empty for Azure's public cloud)")
	fl.StringVar(&f.region, "region", "", "s3: the region (default us-east-1)")
	fl.StringVar(&f.bucket, "bucket", "", "s3: the bucket")
	fl.StringVar(&f.prefix, "prefix", "", "s3, azure: a prefix (folder) for object names")
	fl.BoolVar(&f.pathStyle, "path-style", false, "s3: path-style addressing (most self-hosted servers, MinIO)")
	fl.StringVar(&f.class, "storage-class", "", "s3: storage class, e.g. STANDARD_IA")
	fl.StringVar(&f.sse, "sse", "", "s3: server-side encryption: AES256 or aws:kms")
	fl.StringVar(&f.accessKey, "access-key", "", "s3: access key ID")
	fl.IntVar(&f.lockDays, "object-lock-days", 0, "s3: keep every backup undeletable for N days (S3 Object Lock; the bucket must have it enabled)")
	fl.StringVar(&f.lockMode, "object-lock-mode", "", "s3: Object Lock mode: governance (default) or compliance")
	fl.StringVar(&f.host, "host", "", "sftp: the server")
	fl.IntVar(&f.port, "port", 22, "sftp: the port")
	fl.StringVar(&f.user, "user", "", "sftp, webdav: the user")
	fl.StringVar(&f.url, "url", "", "webdav: the folder's address")
	fl.StringVar(&f.certSHA256, "cert-sha256", "", "webdav: pin the server's self-signed certificate (its SHA-256 fingerprint)")
	fl.BoolVar(&f.allowHTTP, "allow-http", false, "webdav: accept an http:// address of another machine (the password travels unencrypted: a trusted network only)")
	fl.StringVar(&f.sshKey, "ssh-key", "", "sftp: a private key file")
	fl.StringVar(&f.hostKey, "host-key", "", "sftp: the server's host key (\"ssh-ed25519 AAAA…\")")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "sftp: a known_hosts file holding the server's key")
	fl.BoolVar(&f.secretStdin, "secret-stdin", false, "read the secret (S3 secret key, SFTP or WebDAV password, key passphrase, Azure access key) from the first line of stdin")
	cloud.add(cmd)
	fl.StringVar(&f.azureAccount, "account", "", "azure: the storage account's name")
	fl.StringVar(&f.azureContainer, "container", "", "azure: the container")
	fl.BoolVar(&f.sasStdin, "sas-stdin", false, "azure: read a SAS token (or SAS URL) from the first line of stdin, instead of the access key")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func (f storageFlags) secret(env *Env) (string, error) {
	if !f.secretStdin {
		return "", nil
	}
	return readPasswordLine(env.Stdin)
}

func (f storageFlags) config(env *Env, kind string) (store.StorageConfig, error) {
	in := engine.StorageInput{Name: f.name, Kind: kind, Path: f.path}
	switch kind {
	case "local":
		if f.path == "" {
			return store.StorageConfig{}, errors.New("give the folder: --path /mnt/backups")
		}
	case "s3":
		if f.bucket == "" {
			return store.StorageConfig{}, errors.New("give the bucket: --bucket NAME")
		}
		secret, err := f.secret(env)
		if err != nil {
			return store.StorageConfig{}, err
		}
		if secret == "" {
			secret = os.Getenv("AWS_SECRET_ACCESS_KEY")
		}
		access := f.accessKey
		if access == "" {
			access = os.Getenv("AWS_ACCESS_KEY_ID")
		}
		if access == "" || secret == "" {
			return store.StorageConfig{}, errors.New("give the access key (--access-key or AWS_ACCESS_KEY_ID) and the secret key (--secret-stdin or AWS_SECRET_ACCESS_KEY)")
		}
		in.Endpoint, in.Region, in.Bucket, in.Prefix, in.PathStyle, in.StorageClass, in.SSE = f.endpoint, f.region, f.bucket, f.prefix, f.pathStyle, f.class, f.sse
		in.AccessKeyID, in.SecretKey, in.SessionToken = access, secret, os.Getenv("AWS_SESSION_TOKEN")
		if f.lockMode != "" && f.lockDays == 0 {
			return store.StorageConfig{}, errors.New("--object-lock-mode needs --object-lock-days N")
		}
		in.ObjectLockDays, in.ObjectLockMode = f.lockDays, f.lockMode
	case "sftp":
		if f.host == "" || f.user == "" {
			return store.StorageConfig{}, errors.New("give the server and user: --host H --user U")
		}
		secret, err := f.secret(env)
		if err != nil {
			return store.StorageConfig{}, err
		}
		if f.sshKey == "" && secret == "" {
			return store.StorageConfig{}, errors.New("give a private key (--ssh-key FILE) or a password (--secret-stdin)")
		}
		in.Host, in.Port, in.User, in.KeyPath, in.HostKey, in.KnownHosts = f.host, f.port, f.user, f.sshKey, f.hostKey, f.knownHosts
		if f.sshKey != "" {
			in.KeyPassphrase = secret
		} else {
			in.Password = secret
		}
	case "webdav":
		if f.url == "" || f.user == "" {
			return store.StorageConfig{}, errors.New("give the folder's address and the user: --url https://HOST/PATH/ --user U")
		}
		if engine.WebDAVPlainHTTP(f.url) && !f.allowHTTP {
			return store.StorageConfig{}, errors.New("the address starts with http://, so the WebDAV password would travel unencrypted over the network: use an https:// address, or pass --allow-http for a server on a trusted network (the same machine or your LAN)")
		}
		secret, err := f.secret(env)
		if err != nil {
			return store.StorageConfig{}, err
		}
		if secret == "" {
			if secret, err = askTerminal("WebDAV password for " + f.user + ": "); err != nil {
				return store.StorageConfig{}, err
			}
		}
		in.URL, in.User, in.Password, in.CertSHA256, in.AllowHTTP = f.url, f.user, secret, f.certSHA256, f.allowHTTP
	case "azure":
		if err := f.azure(env, &in); err != nil {
			return store.StorageConfig{}, err
		}
	default:
		return store.StorageConfig{}, fmt.Errorf("unknown storage kind %q: use local, s3, sftp, webdav, azure, gdrive, dropbox or onedrive", kind)
	}
	return in.Config()
}

// askTerminal asks a secret on the terminal (not echoed).
func askTerminal(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask the password on: give it on stdin with --secret-stdin")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("no password given")
	}
	return string(b), nil
}

// azure fills in an Azure storage: its account key or SAS token from stdin
// or the Azure CLI's variables.
func (f storageFlags) azure(env *Env, in *engine.StorageInput) error {
	if f.azureAccount == "" || f.azureContainer == "" {
		return errors.New("give the storage account and the container: --account A --container C")
	}
	if f.secretStdin && f.sasStdin {
		return errors.New("give either the access key (--secret-stdin) or a SAS token (--sas-stdin), not both")
	}
	in.Account, in.Container, in.Prefix, in.Endpoint = f.azureAccount, f.azureContainer, f.prefix, f.endpoint
	switch {
	case f.secretStdin || f.sasStdin:
		secret, err := readPasswordLine(env.Stdin)
		if err != nil {
			return err
		}
		if f.sasStdin {
			in.SAS = secret
		} else {
			in.AccountKey = secret
		}
	case os.Getenv("AZURE_STORAGE_KEY") != "":
		in.AccountKey = os.Getenv("AZURE_STORAGE_KEY")
	case os.Getenv("AZURE_STORAGE_SAS_TOKEN") != "":
		in.SAS = os.Getenv("AZURE_STORAGE_SAS_TOKEN")
	}
	if in.AccountKey == "" && in.SAS == "" {
		return errors.New("give the access key (--secret-stdin or AZURE_STORAGE_KEY) or a SAS token (--sas-stdin or AZURE_STORAGE_SAS_TOKEN)")
	}
	return nil
}

// unknownHostKey shows the server's key so the user can check and pin it.
func unknownHostKey(env *Env, s *store.SFTPStorage) error {
	hk, err := engine.SSHHostKey(env.Ctx, store.SSHTunnel{Host: s.Host, Port: s.Port, User: s.User})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "The SFTP server's host key is not known yet.\nFingerprint: %s\n"+
		"Check it with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server), then run again with:\n  --host-key '%s'\n",
		hk.Fingerprint, strings.TrimSpace(hk.Key))
	return errors.New("not added: the server's host key must be checked first")
}

func storageListCmd(env *Env) *cobra.Command {
	var keyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List storages (no secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openEngine(env, keyFile)
			if err != nil {
				return err
			}
			defer e.Close()
			ss, err := e.Storages(env.Ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, ss)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tWHERE")
			for _, s := range ss {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Kind, engine.StorageWhere(s.StorageConfig))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func storageTestCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Write, read back and delete a small object",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.TestStorage(env.Ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "storage %s works ✓\n", args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}

func storageRemoveCmd(env *Env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Forget a storage (the backups in it stay there)",
		Args:  cobra.ExactArgs(1),
		RunE: withEngine(env, &keyFile, func(e *engine.Engine, args []string) error {
			if err := e.RemoveStorage(context.WithoutCancel(env.Ctx), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "removed storage %s; its backups stay where they are\n", args[0])
			return nil
		}),
	}
	keyFileFlag(cmd, &keyFile)
	return cmd
}
