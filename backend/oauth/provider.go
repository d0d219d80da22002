// Package oauth signs PgSafe in to a cloud storage (Google Drive, Dropbox,
// OneDrive) with OAuth 2.0 for installed apps: the authorization code flow
// with PKCE (S256), the system browser, and a one-shot loopback redirect on
// 127.0.0.1 with a random port. What it keeps is a refresh token, which the
// caller seals in the storage's settings (backend/store); TokenSource turns
// it into access tokens and hands a rotated one back to be saved. A grant
// the provider no longer honours (revoked, expired: invalid_grant) is a
// *ReauthError, "sign in to Google Drive again". See docs/STORAGE.md.
package oauth

import (
	"net/url"
	"os"
	"strings"
)

// Client IDs of this build's registered OAuth clients, set at build time:
//
//	-ldflags "-X github.com/pgsafe/pgsafe/backend/oauth.GoogleClientID=…"
//
// (PGSAFE_GOOGLE_CLIENT_ID and friends at `make`). Empty: the user must give
// their own client ID. Installed-app "secrets" are not secret (Google hands
// one to every desktop client and says so); they are sent when set.
var (
	GoogleClientID       = ""
	GoogleClientSecret   = ""
	DropboxClientID      = ""
	OneDriveClientID     = ""
	OneDriveClientSecret = ""
)

// Provider is one service PgSafe can sign in to.
type Provider struct {
	ID   string // the storage kind: gdrive, dropbox, onedrive
	Name string // for people: "Google Drive"
	// Company is whose account the user signs in with ("Google"), for the
	// button: "Sign in with Google".
	Company  string
	AuthURL  string
	TokenURL string
	// APIURL and UploadURL are the service's own endpoints, for its
	// storage package (Drive: the files API and the upload API).
	APIURL    string
	UploadURL string
	Scopes    []string
	// AuthParams are added to the authorization URL (Google needs
	// access_type=offline to hand out a refresh token).
	AuthParams map[string]string
	// ClientID and ClientSecret are this build's (ldflags); a user's own
	// client ID replaces them (Settings, or --client-id).
	ClientID     string
	ClientSecret string
}

// Providers is the table of services, by storage kind.
func Providers() map[string]Provider {
	ps := map[string]Provider{
		"gdrive": {ID: "gdrive", Name: "Google Drive", Company: "Google",
			AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			APIURL: "https://www.googleapis.com/drive/v3", UploadURL: "https://www.googleapis.com/upload/drive/v3",
			// drive.file: only the files PgSafe created (and folders it made), not the user's whole Drive.
			Scopes:     []string{"https://www.googleapis.com/auth/drive.file"},
			AuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
			ClientID:   GoogleClientID, ClientSecret: GoogleClientSecret},
		"dropbox": {ID: "dropbox", Name: "Dropbox", Company: "Dropbox",
			AuthURL: "https://www.dropbox.com/oauth2/authorize", TokenURL: "https://api.dropboxapi.com/oauth2/token",
			APIURL: "https://api.dropboxapi.com/2", UploadURL: "https://content.dropboxapi.com/2",
			Scopes:     []string{"files.content.write", "files.content.read", "files.metadata.read", "account_info.read"},
			AuthParams: map[string]string{"token_access_type": "offline"},
			ClientID:   DropboxClientID},
		"onedrive": {ID: "onedrive", Name: "OneDrive", Company: "Microsoft",
			AuthURL:  "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
			APIURL:   "https://graph.microsoft.com/v1.0", UploadURL: "https://graph.microsoft.com/v1.0",
			Scopes:   []string{"Files.ReadWrite", "User.Read", "offline_access"},
			ClientID: OneDriveClientID, ClientSecret: OneDriveClientSecret},
	}
	for id, p := range ps {
		ps[id] = p.overridden(os.Getenv("PGSAFE_OAUTH_BASE_" + strings.ToUpper(id)))
	}
	return ps
}

// Lookup returns the provider of a storage kind.
func Lookup(kind string) (Provider, bool) {
	p, ok := Providers()[kind]
	return p, ok
}

// overridden points every endpoint at base (scheme and host; each keeps its
// path), when base is set: PGSAFE_OAUTH_BASE_GDRIVE=http://127.0.0.1:PORT
// is how the tests send PgSafe to a local fake of the service, since no real
// one can be reached from them. A user never sets it.
func (p Provider) overridden(base string) Provider {
	if base == "" {
		return p
	}
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		return p
	}
	swap := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		u.Scheme, u.Host = b.Scheme, b.Host
		return u.String()
	}
	p.AuthURL, p.TokenURL, p.APIURL, p.UploadURL = swap(p.AuthURL), swap(p.TokenURL), swap(p.APIURL), swap(p.UploadURL)
	return p
}

// WithClient returns p with the user's own client ID (and secret, if their
// client has one) instead of this build's; empty keeps this build's.
func (p Provider) WithClient(id, secret string) Provider {
	if id = strings.TrimSpace(id); id != "" {
		p.ClientID, p.ClientSecret = id, secret
	}
	return p
}
