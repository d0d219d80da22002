package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/storage/webdav"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The inputs a face fills in from a form, flat and in plain strings, and
// how they become the settings the engine stores: secrets are sealed in
// store.Secret here, so a face never builds one.

// StorageInput is a storage as a form gives it. Path is the local folder
// or the folder on the SFTP server.
type StorageInput struct {
	Name string
	Kind string // local, s3, sftp, webdav
	Path string
	// S3
	Endpoint     string
	Region       string
	Bucket       string
	Prefix       string
	PathStyle    bool
	StorageClass string
	SSE          string
	AccessKeyID  string
	SecretKey    string
	SessionToken string // temporary credentials' token (AWS_SESSION_TOKEN)
	// ObjectLockDays > 0: S3 Object Lock for that many days, in
	// ObjectLockMode (governance or compliance; "" is governance).
	ObjectLockDays int
	ObjectLockMode string
	// SFTP
	Host          string
	Port          int
	User          string
	Password      string
	KeyPath       string
	KeyPassphrase string
	HostKey       string // the server's key the user checked
	KnownHosts    string // or a known_hosts file holding it
	// WebDAV (User and Password above)
	URL        string // the folder's address
	CertSHA256 string // a pinned self-signed certificate's SHA-256
	AllowHTTP  bool   // send the password over plain http (a trusted network)
	// Azure Blob Storage (and Endpoint, Prefix above)
	Account    string
	Container  string
	AccountKey string
	SAS        string // a SAS token, instead of AccountKey
}

// Config is the storage's settings.
func (in StorageInput) Config() (store.StorageConfig, error) {
	c := store.StorageConfig{Name: in.Name, Kind: store.StorageKind(in.Kind)}
	switch c.Kind {
	case store.StorageLocal:
		c.Local = &store.LocalStorage{Path: in.Path}
	case store.StorageS3:
		c.S3 = &store.S3Storage{Endpoint: in.Endpoint, Region: in.Region, Bucket: in.Bucket, Prefix: in.Prefix,
			PathStyle: in.PathStyle, StorageClass: in.StorageClass, SSE: in.SSE, AccessKeyID: in.AccessKeyID,
			SecretAccessKey: store.NewSecret(in.SecretKey), SessionToken: store.NewSecret(in.SessionToken),
			ObjectLockDays: in.ObjectLockDays, ObjectLockMode: in.ObjectLockMode}
	case store.StorageSFTP:
		c.SFTP = &store.SFTPStorage{Host: in.Host, Port: in.Port, User: in.User, Password: store.NewSecret(in.Password),
			KeyPath: in.KeyPath, KeyPassphrase: store.NewSecret(in.KeyPassphrase), HostKey: in.HostKey, KnownHostsPath: in.KnownHosts, Path: in.Path}
	case store.StorageWebDAV:
		c.WebDAV = &store.WebDAVStorage{URL: strings.TrimSpace(in.URL), User: strings.TrimSpace(in.User),
			Password: store.NewSecret(in.Password), CertSHA256: strings.TrimSpace(in.CertSHA256), AllowHTTP: in.AllowHTTP}
	case store.StorageAzure:
		c.Azure = &store.AzureStorage{Account: strings.TrimSpace(in.Account), Container: strings.TrimSpace(in.Container),
			Prefix: in.Prefix, Endpoint: strings.TrimSpace(in.Endpoint),
			Key: store.NewSecret(strings.TrimSpace(in.AccountKey)), SAS: store.NewSecret(strings.TrimSpace(in.SAS))}
	default:
		return c, fmt.Errorf("unknown storage kind %q", in.Kind)
	}
	return c, nil
}

// WebDAVPlainHTTP says whether a WebDAV folder address is http:// to a
// machine other than this one: the password would travel unencrypted, and
// AddStorage refuses it unless StorageInput.AllowHTTP is set.
func WebDAVPlainHTTP(url string) bool { return webdav.PlainHTTP(url) }

// StorageSecretSet says whether the storage has its secret: S3's secret
// key, SFTP's password, private key or key file, WebDAV's password.
func StorageSecretSet(c store.StorageConfig) bool {
	switch {
	case c.S3 != nil:
		return c.S3.SecretAccessKey.IsSet()
	case c.SFTP != nil:
		return c.SFTP.Password.IsSet() || c.SFTP.PrivateKey.IsSet() || c.SFTP.KeyPath != ""
	case c.WebDAV != nil:
		return c.WebDAV.Password.IsSet()
	case c.Cloud != nil:
		return c.Cloud.RefreshToken.IsSet()
	case c.Azure != nil:
		return c.Azure.Key.IsSet() || c.Azure.SAS.IsSet()
	}
	return false
}

// NotifierInput is a notifier as a form gives it; empty settings and
// secrets are left out.
type NotifierInput struct {
	Name     string
	Kind     string
	Events   []string // empty: the defaults
	Settings map[string]string
	Secrets  map[string]string
}

// Config is the notifier's settings, enabled.
func (in NotifierInput) Config() store.NotifierConfig {
	c := store.NotifierConfig{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Enabled: true, Events: in.Events,
		Settings: map[string]string{}, Secrets: map[string]store.Secret{}}
	for k, v := range in.Settings {
		if v = strings.TrimSpace(v); v != "" {
			c.Settings[k] = v
		}
	}
	for k, v := range in.Secrets {
		if v != "" {
			c.Secrets[k] = store.NewSecret(v)
		}
	}
	return c
}

// NotifierSecretsSet names the notifier's secrets that are set, sorted.
func NotifierSecretsSet(n store.Notifier) []string {
	out := []string{}
	for k, sec := range n.Secrets {
		if sec.IsSet() {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// NotifierEvents are the events a notifier can receive, with labels.
func NotifierEvents() []notify.EventInfo { return notify.Events() }

// DesktopNotify shows a message in the desktop's notification area now
// (a face's own hints), waiting at most notify.DesktopTimeout.
func DesktopNotify(ctx context.Context, title, body string) error {
	n, err := notify.New(store.NotifierConfig{Name: "desktop", Kind: store.NotifierDesktop, Enabled: true})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, notify.DesktopTimeout)
	defer cancel()
	return n.Send(ctx, notify.Event{Kind: "app.hint", Title: title, Body: body})
}

// SSHInput is an SSH bastion as a form gives it.
type SSHInput struct {
	Host          string
	Port          int
	User          string
	Password      string
	KeyPath       string
	KeyPassphrase string
	HostKey       string // the bastion's key the user checked and trusts
}

// Tunnel is the bastion's settings.
func (in SSHInput) Tunnel() store.SSHTunnel {
	return store.SSHTunnel{Host: in.Host, Port: in.Port, User: in.User, Password: store.NewSecret(in.Password), KeyPath: in.KeyPath,
		KeyPassphrase: store.NewSecret(in.KeyPassphrase), HostKey: in.HostKey}
}
