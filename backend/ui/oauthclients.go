package ui

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// OAuthClientForm is the user's own OAuth client for a cloud drive, from
// Settings → Cloud drives. ClientSecret goes in, never comes back: empty
// keeps the stored one (while the client ID stays the same).
type OAuthClientForm struct {
	Kind         string `json:"kind"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// OAuthClients lists the cloud drives' clients: whether this build has
// one, and the user's own (the secret only as set or not).
func (s *StorageService) OAuthClients() ([]engine.OAuthClient, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	return e.OAuthClients(context.Background())
}

// SetOAuthClient saves the user's own client for a cloud drive, for the
// next sign-in, and returns the list as it now is.
func (s *StorageService) SetOAuthClient(f OAuthClientForm) ([]engine.OAuthClient, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	if err := e.SetOAuthClient(context.Background(), f.Kind, f.ClientID, f.ClientSecret); err != nil {
		return nil, err
	}
	return e.OAuthClients(context.Background())
}

// ClearOAuthClient removes the user's own client for a cloud drive: the
// next sign-in uses this build's.
func (s *StorageService) ClearOAuthClient(kind string) ([]engine.OAuthClient, error) {
	e, err := s.core.engine()
	if err != nil {
		return nil, err
	}
	if err := e.ClearOAuthClient(context.Background(), kind); err != nil {
		return nil, err
	}
	return e.OAuthClients(context.Background())
}
