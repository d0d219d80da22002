package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/dropbox"
	"github.com/pgsafe/pgsafe/backend/storage/gdrive"
	"github.com/pgsafe/pgsafe/backend/storage/onedrive"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Cloud drives (Google Drive, Dropbox, OneDrive): PgSafe signs in through
// the system browser (backend/oauth) and keeps the refresh token sealed in
// the storage's CloudStorage. See docs/STORAGE.md.

// CloudInput is a cloud drive storage to sign in to and add.
type CloudInput struct {
	Name   string
	Kind   string // gdrive, dropbox, onedrive
	Folder string // "" is "PgSafe"
	// ClientID and ClientSecret are the user's own OAuth client, if they
	// gave one here; otherwise the setting oauth.<kind>.client_id, then
	// this build's.
	ClientID     string
	ClientSecret string
}

// SettingOAuthClientID is the setting holding the user's own OAuth client
// ID for a kind (and SettingOAuthClientSecret its secret, if it has one):
// see oauthclients.go.
func SettingOAuthClientID(kind string) string     { return "oauth." + kind + ".client_id" }
func SettingOAuthClientSecret(kind string) string { return "oauth." + kind + ".client_secret" }

// cloudProvider is kind's provider with the client to use: given, else the
// user's setting, else this build's.
func (e *Engine) cloudProvider(ctx context.Context, kind, clientID, clientSecret string) (oauth.Provider, error) {
	p, ok := oauth.Lookup(kind)
	if !ok {
		return p, fmt.Errorf("%q is not a cloud drive PgSafe can sign in to (gdrive, dropbox or onedrive)", kind)
	}
	if strings.TrimSpace(clientID) == "" {
		var err error
		if clientID, err = e.optionalSetting(ctx, SettingOAuthClientID(kind)); err != nil {
			return p, fmt.Errorf("read your own %s client: %w", p.Name, err)
		}
		if clientSecret, err = e.optionalSetting(ctx, SettingOAuthClientSecret(kind)); err != nil {
			return p, fmt.Errorf("read your own %s client: %w", p.Name, err)
		}
	}
	return p.WithClient(clientID, clientSecret), nil
}

// AddCloudStorage signs in to a cloud drive (open shows the authorization
// URL: the system browser, or printed), then tests and stores the storage.
// Cancel ctx to stop waiting for the browser.
func (e *Engine) AddCloudStorage(ctx context.Context, in CloudInput, open func(url string) error) (int64, error) {
	if _, err := e.store.StorageByName(ctx, in.Name); err == nil {
		return 0, fmt.Errorf("a storage named %q exists already: choose another name", in.Name)
	}
	if strings.TrimSpace(in.Name) == "" {
		return 0, errors.New("give the storage a name")
	}
	p, err := e.cloudProvider(ctx, in.Kind, in.ClientID, in.ClientSecret)
	if err != nil {
		return 0, err
	}
	g, err := oauth.SignIn(ctx, p, open, 0)
	if err != nil {
		return 0, err
	}
	folder := strings.Trim(strings.TrimSpace(in.Folder), "/")
	if folder == "" {
		folder = "PgSafe"
	}
	c := store.StorageConfig{Name: in.Name, Kind: store.StorageKind(in.Kind), Cloud: &store.CloudStorage{Folder: folder,
		ClientID: g.ClientID, ClientSecret: store.NewSecret(g.ClientSecret), RefreshToken: store.NewSecret(g.RefreshToken)}}
	return e.AddStorage(ctx, c)
}

// SignInStorageAgain signs a cloud drive storage in again (its grant was
// revoked or expired) and keeps the new refresh token.
func (e *Engine) SignInStorageAgain(ctx context.Context, name string, open func(url string) error) error {
	st, err := e.store.StorageByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("storage", name)
	} else if err != nil {
		return err
	}
	c, err := e.store.StorageCredentials(ctx, st.ID)
	if err != nil {
		return err
	}
	if c.Cloud == nil {
		return fmt.Errorf("storage %s is not a cloud drive: there is nothing to sign in to", name)
	}
	p, err := e.cloudProvider(ctx, string(c.Kind), c.Cloud.ClientID, c.Cloud.ClientSecret.Reveal())
	if err != nil {
		return err
	}
	g, err := oauth.SignIn(ctx, p, open, 0)
	if err != nil {
		return err
	}
	c.Cloud.RefreshToken = store.NewSecret(g.RefreshToken)
	c.Cloud.ClientID, c.Cloud.ClientSecret = g.ClientID, store.NewSecret(g.ClientSecret)
	s, _, err := e.openStorage(ctx, c)
	if err != nil {
		return err
	}
	if err := probe(ctx, s); err != nil {
		return err
	}
	if _, err := e.store.UpdateStorage(ctx, st.ID, c); err != nil {
		return err
	}
	return e.record(ctx, Event{Action: "storage.signed_in", Target: name,
		Fields: map[string]string{"id": strconv.FormatInt(st.ID, 10), "kind": string(c.Kind)}})
}

// openCloud opens a cloud drive storage. A refresh token the provider
// rotates is sealed in place of the old one (in c as well, so a storage
// being added is stored with the newest).
func (e *Engine) openCloud(ctx context.Context, c store.StorageConfig) (storage.Storage, error) {
	p, err := e.cloudProvider(ctx, string(c.Kind), c.Cloud.ClientID, c.Cloud.ClientSecret.Reveal())
	if err != nil {
		return nil, err
	}
	cloud := c.Cloud
	save := func(rt string) error {
		cloud.RefreshToken = store.NewSecret(rt)
		st, err := e.store.StorageByName(context.WithoutCancel(ctx), c.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil // being added: stored with the new token
		} else if err != nil {
			return err
		}
		upd := c
		cl := *cloud
		upd.Cloud = &cl
		_, err = e.store.UpdateStorage(context.WithoutCancel(ctx), st.ID, upd)
		slog.Info("cloud storage's refresh token renewed", "storage", c.Name, "kind", c.Kind, "err", err)
		return err
	}
	src := oauth.TokenSource(context.WithoutCancel(ctx), p, cloud.RefreshToken.Reveal(), save)
	client := oauth.Client(ctx, src)
	switch c.Kind {
	case store.StorageGDrive:
		s, err := gdrive.New(ctx, gdrive.Config{APIURL: p.APIURL, UploadURL: p.UploadURL, Folder: cloud.Folder, HTTP: client})
		if err != nil {
			return nil, err
		}
		if cloud.Account == "" {
			cloud.Account, _ = s.Account(ctx) // a label only: an account that cannot say stays unnamed
		}
		return s, nil
	case store.StorageDropbox:
		s, err := dropbox.New(ctx, dropbox.Config{Folder: cloud.Folder, Client: client, APIURL: p.APIURL, ContentURL: p.UploadURL})
		if err != nil {
			return nil, err
		}
		if cloud.Account == "" {
			cloud.Account, _ = s.Account(ctx)
		}
		return s, nil
	case store.StorageOneDrive:
		s, err := onedrive.New(ctx, onedrive.Config{Folder: cloud.Folder, Client: client, GraphURL: p.APIURL})
		if err != nil {
			return nil, err
		}
		if cloud.Account == "" {
			cloud.Account, _ = s.Account(ctx)
		}
		return s, nil
	}
	return nil, fmt.Errorf("this PgSafe cannot keep backups in %s yet", p.Name)
}

// cloudWhere says where a cloud drive storage is: "Google Drive: PgSafe (ann@example.com)".
func cloudWhere(c store.StorageConfig) string {
	name := string(c.Kind)
	if p, ok := oauth.Lookup(name); ok {
		name = p.Name
	}
	where := name + ": " + c.Cloud.Folder
	if c.Cloud.Account != "" {
		where += " (" + c.Cloud.Account + ")"
	}
	return where
}
