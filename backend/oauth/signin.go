package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// SignInTimeout is how long a sign-in waits for the browser to come back.
const SignInTimeout = 5 * time.Minute

// ErrNoClientID: this build has no client ID for the provider and the user
// gave none. The window offers the user's own client in Settings, under Cloud drives;
// the command line adds its own advice (backend/cli).
var ErrNoClientID = errors.New("this PgSafe was built without an OAuth client ID for this service: enter your own client ID in Settings, under Cloud drives")

// ErrSignInTimeout: the browser did not come back in time.
var ErrSignInTimeout = errors.New("the sign-in was not finished in time: sign in again, and approve PgSafe in the browser window that opens")

// DeclinedError: the user (or the provider) refused in the browser.
type DeclinedError struct {
	Provider string
	Code     string // the provider's error code, e.g. access_denied
}

func (e *DeclinedError) Error() string {
	if e.Code == "access_denied" {
		return fmt.Sprintf("%s sign-in was declined in the browser: sign in again and allow PgSafe access", e.Provider)
	}
	return fmt.Sprintf("%s refused the sign-in (%s): try again, or check the client ID in Settings", e.Provider, e.Code)
}

// Grant is what a sign-in yields: the refresh token to seal in the
// storage's settings (never log or show it) and the client it belongs to.
type Grant struct {
	RefreshToken string
	ClientID     string
	ClientSecret string
	// Token is the first access token, for the storage's first calls.
	Token *oauth2.Token
}

// SignIn runs the authorization code flow with PKCE: it listens on
// 127.0.0.1 at a random port, has open show the authorization URL (the
// system browser; a CLI with --no-browser prints it), waits for the
// redirect (state checked), shows a page saying the browser can be closed,
// and exchanges the code. It gives up when ctx ends or after timeout
// (SignInTimeout if 0).
func SignIn(ctx context.Context, p Provider, open func(url string) error, timeout time.Duration) (*Grant, error) {
	if p.ClientID == "" {
		return nil, fmt.Errorf("sign in to %s: %w", p.Name, ErrNoClientID)
	}
	if timeout <= 0 {
		timeout = SignInTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sign in to %s: cannot listen on 127.0.0.1 for the browser's answer: %w", p.Name, err)
	}
	defer ln.Close()
	cfg := p.config(fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port))
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for k, v := range p.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	type answer struct {
		code string
		err  error
	}
	answers := make(chan answer, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/" || (q.Get("state") == "" && q.Get("code") == "" && q.Get("error") == "") {
			http.NotFound(w, r) // a favicon, a stray request: not the answer
			return
		}
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			// Not our request (another tab, a forged redirect): refuse it and keep waiting.
			page(w, http.StatusBadRequest, "This sign-in link is not the one PgSafe is waiting for", "Start the sign-in again from PgSafe.")
			return
		}
		var a answer
		switch {
		case q.Get("error") != "":
			a.err = &DeclinedError{Provider: p.Name, Code: q.Get("error")}
			page(w, http.StatusOK, "PgSafe was not allowed in", "You can close this tab and sign in again from PgSafe.")
		case q.Get("code") == "":
			a.err = fmt.Errorf("%s sent the browser back without an authorization code: sign in again", p.Name)
			page(w, http.StatusBadRequest, "Something went wrong", "You can close this tab and sign in again from PgSafe.")
		default:
			a.code = q.Get("code")
			page(w, http.StatusOK, "PgSafe is signed in to "+p.Name, "You can close this tab and return to PgSafe.")
		}
		select {
		case answers <- a:
		default: // a second answer after the first: ignored
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	if err := open(authURL); err != nil {
		return nil, fmt.Errorf("sign in to %s: cannot open the browser: %w", p.Name, err)
	}
	slog.Info("oauth sign-in waiting for the browser", "provider", p.ID, "port", ln.Addr().(*net.TCPAddr).Port)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var a answer
	select {
	case a = <-answers:
	case <-timer.C:
		return nil, ErrSignInTimeout
	case <-ctx.Done():
		return nil, fmt.Errorf("sign in to %s: %w", p.Name, context.Cause(ctx))
	}
	if a.err != nil {
		return nil, a.err
	}
	tok, err := cfg.Exchange(ctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenError(p, "finish the sign-in", err)
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%s signed PgSafe in but gave no lasting permission (no refresh token): remove PgSafe from your account's connected apps, then sign in again", p.Name)
	}
	return &Grant{RefreshToken: tok.RefreshToken, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Token: tok}, nil
}

func (p Provider) config(redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}}
}

func randomString() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PgSafe</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
@media (prefers-color-scheme:dark){body{background:#1a1b1e;color:#ddd}}h1{font-size:1.4rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Body}}</p></body></html>`))

// page is what the browser shows at the end of the sign-in.
func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTmpl.Execute(w, struct{ Title, Body string }{title, body})
}
