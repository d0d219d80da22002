package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// Signing in to a cloud drive from the window: StartSignIn begins the flow
// and returns the provider's page for the window to open in the system
// browser (Wails' BrowserOpenURL); FinishSignIn waits for the browser to
// come back and the storage to be tested and saved; CancelSignIn stops
// waiting. The loopback listener runs where the engine runs (the agent),
// on this computer.

// CloudForm is "Sign in with Google" (or Dropbox, Microsoft).
type CloudForm struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`   // gdrive, dropbox, onedrive
	Folder string `json:"folder"` // "" is PgSafe
	// The client is the user's own from Settings → Cloud drives
	// (OAuthClients), else this build's.
}

// SignInStart is a sign-in waiting for the browser: open URL, then call
// FinishSignIn(ID).
type SignInStart struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// signIns are the sign-ins waiting for their browser.
type signIns struct {
	mu sync.Mutex
	m  map[string]*signIn
}

type signIn struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs flow (AddCloudStorage or SignInStorageAgain) until it has the
// URL to open, and keeps it waiting for FinishSignIn.
func (s *signIns) start(flow func(ctx context.Context, open func(string) error) error) (SignInStart, error) {
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- flow(ctx, func(u string) error { urls <- u; return nil })
	}()
	select {
	case u := <-urls:
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		s.mu.Lock()
		if s.m == nil {
			s.m = map[string]*signIn{}
		}
		s.m[id] = &signIn{cancel: cancel, done: done}
		s.mu.Unlock()
		return SignInStart{ID: id, URL: u}, nil
	case err := <-done:
		cancel()
		return SignInStart{}, err
	}
}

func (s *signIns) get(id string) *signIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

func (s *signIns) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// StartSignIn begins signing in to a cloud drive for a new storage.
func (s *StorageService) StartSignIn(f CloudForm) (SignInStart, error) {
	e, err := s.core.engine()
	if err != nil {
		return SignInStart{}, err
	}
	in := engine.CloudInput{Name: f.Name, Kind: f.Kind, Folder: f.Folder}
	return s.core.signIns.start(func(ctx context.Context, open func(string) error) error {
		_, err := e.AddCloudStorage(ctx, in, open)
		return err
	})
}

// StartSignInAgain begins signing a cloud drive storage in again (its
// permission was revoked or expired).
func (s *StorageService) StartSignInAgain(name string) (SignInStart, error) {
	e, err := s.core.engine()
	if err != nil {
		return SignInStart{}, err
	}
	return s.core.signIns.start(func(ctx context.Context, open func(string) error) error {
		return e.SignInStorageAgain(ctx, name, open)
	})
}

// FinishSignIn waits until the sign-in ID is done: the storage is then
// saved (or signed in again), or the error says why not.
func (s *StorageService) FinishSignIn(id string) error {
	si := s.core.signIns.get(id)
	if si == nil {
		return errors.New("this sign-in is over: start it again")
	}
	// It stays listed while it waits, for CancelSignIn to find it.
	defer s.core.signIns.forget(id)
	defer si.cancel()
	return <-si.done
}

// CancelSignIn stops waiting for the browser.
func (s *StorageService) CancelSignIn(id string) {
	if si := s.core.signIns.get(id); si != nil {
		si.cancel()
	}
}
