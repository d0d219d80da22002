package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pgsafe/pgsafe/backend/oauth"
	"github.com/pgsafe/pgsafe/backend/store"
)

// The user's own OAuth clients (Settings → Cloud drives, `pgsafe settings
// oauth`): a client ID, and for Google Drive and OneDrive a client secret,
// per cloud drive, used by the next sign-in instead of this build's. Both
// are settings, sealed like every setting (the secret as the drill server's
// password is); the secret never comes back out, only whether it is set.
// A storage keeps the client it signed in with (CloudStorage.ClientID), so
// changing or clearing one here changes no storage already signed in.

// ErrNoClientID: no client to sign in with, neither this build's nor the
// user's own (faces add how to give one).
var ErrNoClientID = oauth.ErrNoClientID

// BuildHasClient says whether this build has its own OAuth client for the
// cloud drive kind, and names the service ("Google Drive").
func BuildHasClient(kind string) (service string, builtIn bool) {
	p, ok := oauth.Lookup(kind)
	if !ok {
		return kind, false
	}
	return p.Name, p.ClientID != ""
}

// cloudKinds are the cloud drives, in the order Settings lists them.
var cloudKinds = []string{"gdrive", "dropbox", "onedrive"}

// OAuthClient is one cloud drive's client, as Settings shows it.
type OAuthClient struct {
	Kind    string `json:"kind"`    // gdrive, dropbox, onedrive
	Service string `json:"service"` // "Google Drive"
	// BuiltIn: this build has a client ID for the service (ldflags).
	BuiltIn bool `json:"builtIn"`
	// ClientID is the user's own client ID ("" none): not a secret, the
	// provider shows it on its sign-in page.
	ClientID string `json:"clientId"`
	// SecretSet: the user's own client secret is stored (never its value).
	SecretSet bool `json:"secretSet"`
	// TakesSecret: the service's clients may have a secret (Google's
	// desktop clients always do; a OneDrive client may).
	TakesSecret bool `json:"takesSecret"`
}

// OAuthClients lists the cloud drives' clients.
func (e *Engine) OAuthClients(ctx context.Context) ([]OAuthClient, error) {
	out := make([]OAuthClient, 0, len(cloudKinds))
	for _, kind := range cloudKinds {
		p, _ := oauth.Lookup(kind)
		c := OAuthClient{Kind: kind, Service: p.Name, BuiltIn: p.ClientID != "", TakesSecret: kind != "dropbox"}
		id, err := e.optionalSetting(ctx, SettingOAuthClientID(kind))
		if err != nil {
			return nil, err
		}
		secret, err := e.optionalSetting(ctx, SettingOAuthClientSecret(kind))
		if err != nil {
			return nil, err
		}
		c.ClientID, c.SecretSet = id, id != "" && secret != ""
		out = append(out, c)
	}
	return out, nil
}

// SetOAuthClient stores the user's own client for kind: its ID, and a
// secret. An empty secret keeps the stored one while the ID stays the same
// (a new ID drops it: a secret belongs to its client).
func (e *Engine) SetOAuthClient(ctx context.Context, kind, clientID, clientSecret string) error {
	p, ok := oauth.Lookup(kind)
	if !ok {
		return fmt.Errorf("%q is not a cloud drive PgSafe can sign in to (gdrive, dropbox or onedrive)", kind)
	}
	clientID, clientSecret = strings.TrimSpace(clientID), strings.TrimSpace(clientSecret)
	if clientID == "" {
		return fmt.Errorf("enter the client ID of your %s OAuth client (or clear it to use this PgSafe's)", p.Name)
	}
	if strings.ContainsAny(clientID, " \t\r\n") {
		return fmt.Errorf("%s client ID %q has spaces in it: copy it again from your %s developer account", p.Name, clientID, p.Company)
	}
	if kind == "dropbox" && clientSecret != "" {
		return errors.New("a Dropbox client signs in with PKCE and needs no secret: leave the secret empty")
	}
	old, err := e.optionalSetting(ctx, SettingOAuthClientID(kind))
	if err != nil {
		return err
	}
	changedID, err := e.store.SetSetting(ctx, SettingOAuthClientID(kind), clientID)
	if err != nil {
		return fmt.Errorf("save your %s client ID: %w", p.Name, err)
	}
	changedSecret := false
	switch {
	case clientSecret != "":
		if changedSecret, err = e.store.SetSetting(ctx, SettingOAuthClientSecret(kind), clientSecret); err != nil {
			return fmt.Errorf("save your %s client secret: %w", p.Name, err)
		}
	case old != clientID:
		if changedSecret, err = e.deleteSetting(ctx, SettingOAuthClientSecret(kind)); err != nil {
			return fmt.Errorf("remove the old %s client secret: %w", p.Name, err)
		}
	}
	if !changedID && !changedSecret {
		return nil
	}
	return e.record(ctx, Event{Action: "settings.changed", Target: p.Name + " client", Fields: map[string]string{"fields": "oauth_client", "kind": kind}})
}

// ClearOAuthClient removes the user's own client for kind: the next
// sign-in uses this build's.
func (e *Engine) ClearOAuthClient(ctx context.Context, kind string) error {
	p, ok := oauth.Lookup(kind)
	if !ok {
		return fmt.Errorf("%q is not a cloud drive PgSafe can sign in to (gdrive, dropbox or onedrive)", kind)
	}
	a, err := e.deleteSetting(ctx, SettingOAuthClientID(kind))
	if err != nil {
		return fmt.Errorf("clear your %s client: %w", p.Name, err)
	}
	b, err := e.deleteSetting(ctx, SettingOAuthClientSecret(kind))
	if err != nil {
		return fmt.Errorf("clear your %s client: %w", p.Name, err)
	}
	if !a && !b {
		return nil
	}
	return e.record(ctx, Event{Action: "settings.changed", Target: p.Name + " client", Fields: map[string]string{"fields": "oauth_client", "kind": kind}, Message: "removed"})
}

// optionalSetting is key's value, "" when it is not set.
func (e *Engine) optionalSetting(ctx context.Context, key string) (string, error) {
	v, err := e.store.Setting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return v, err
}

// deleteSetting removes key, reporting whether it was set.
func (e *Engine) deleteSetting(ctx context.Context, key string) (bool, error) {
	err := e.store.DeleteSetting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
