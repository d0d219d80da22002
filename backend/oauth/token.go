package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"golang.org/x/oauth2"
)

// ReauthError: the provider no longer honours the grant (invalid_grant: the
// user revoked PgSafe's access, the refresh token expired or was rotated
// away). Only signing in again fixes it; the status model shows it as
// "Sign in to Google Drive again".
type ReauthError struct {
	Provider string // "Google Drive"
}

// ReauthPrefix starts every ReauthError's text, so that a recorded failure
// (a backup's error) can be recognised as one (backend/status).
const ReauthPrefix = "sign in to "

func (e *ReauthError) Error() string {
	return fmt.Sprintf("%s%s again: the permission PgSafe was given was revoked or has expired", ReauthPrefix, e.Provider)
}

// IsReauth reports whether err means the user must sign in again.
func IsReauth(err error) bool {
	var r *ReauthError
	return errors.As(err, &r)
}

// tokenError turns a token endpoint's refusal into what happened and what
// to do; never the token itself.
func tokenError(p Provider, doing string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "invalid_grant":
			return &ReauthError{Provider: p.Name}
		case "invalid_client", "unauthorized_client":
			return fmt.Errorf("%s: %s does not know this PgSafe's client ID (%s): check the client ID in Settings", doing, p.Name, re.ErrorCode)
		}
		if re.Response != nil {
			return fmt.Errorf("%s: %s's sign-in service answered %s (%s)", doing, p.Name, re.Response.Status, re.ErrorCode)
		}
	}
	return fmt.Errorf("%s: cannot reach %s's sign-in service: %w", doing, p.Name, err)
}

// Source gives access tokens for a stored grant, refreshing them when they
// expire or when the service refused one (Invalidate). When the provider
// rotates the refresh token (Dropbox and OneDrive may), save is called with
// the new one, to be sealed in place of the old; a failing save is returned
// (the old token may stop working). Its errors are *ReauthError when the
// grant is gone.
type Source struct {
	p       Provider
	cfg     *oauth2.Config
	ctx     context.Context
	save    func(string) error
	mu      sync.Mutex
	current string
	tok     *oauth2.Token
}

// TokenSource returns the Source of a stored grant.
func TokenSource(ctx context.Context, p Provider, refreshToken string, save func(refreshToken string) error) *Source {
	return &Source{p: p, cfg: p.config(""), ctx: ctx, save: save, current: refreshToken}
}

// Token returns a valid access token, refreshing it if needed.
func (s *Source) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, nil
	}
	t, err := s.cfg.TokenSource(s.ctx, &oauth2.Token{RefreshToken: s.current}).Token()
	if err != nil {
		return nil, tokenError(s.p, "refresh the sign-in", err)
	}
	if t.RefreshToken != "" && t.RefreshToken != s.current {
		s.current = t.RefreshToken
		if s.save != nil {
			if err := s.save(t.RefreshToken); err != nil {
				return nil, fmt.Errorf("save %s's renewed sign-in: %w", s.p.Name, err)
			}
		}
	}
	s.tok = t
	return t, nil
}

// Invalidate drops the access token, so the next Token refreshes it.
func (s *Source) Invalidate(bad *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == bad {
		s.tok = nil
	}
}

// Client is an HTTP client that signs every request with src's tokens.
// A request the service refuses with 401 (the access token was revoked
// early) is sent once more with a fresh token — whose refresh fails with a
// *ReauthError if the grant itself is gone. Its errors unwrap to
// *ReauthError then.
func Client(ctx context.Context, src *Source) *http.Client {
	return &http.Client{Transport: &transport{src: src, base: http.DefaultTransport}}
}

type transport struct {
	src  *Source
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	for try := 0; ; try++ {
		tok, err := t.src.Token()
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		r := req.Clone(req.Context())
		if try > 0 && req.Body != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		tok.SetAuthHeader(r)
		resp, err := t.base.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || try > 0 || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}
		resp.Body.Close()
		t.src.Invalidate(tok)
	}
}

// reauthText matches a ReauthError's text inside a recorded error.
var reauthText = regexp.MustCompile(`sign in to (.+?) again: the permission PgSafe was given was revoked or has expired`)

// ReauthIn finds a ReauthError's text in a recorded error (a backup's
// error line) and returns the service it names, "Google Drive".
func ReauthIn(recorded string) (provider string, ok bool) {
	m := reauthText.FindStringSubmatch(recorded)
	if m == nil {
		return "", false
	}
	return m[1], true
}
