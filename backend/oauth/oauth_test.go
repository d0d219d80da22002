package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv/fakegoogle"
	"github.com/pgsafe/pgsafe/backend/oauth"
)

func google(t *testing.T) (*fakegoogle.Server, oauth.Provider) {
	g := fakegoogle.Start(t)
	t.Setenv("PGSAFE_OAUTH_BASE_GDRIVE", g.URL)
	p, ok := oauth.Lookup("gdrive")
	if !ok {
		t.Fatal("no gdrive provider")
	}
	return g, p.WithClient(g.ClientID, "")
}

// logs captures slog output for the test.
func logs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// The whole flow: the authorization URL asks for a code with PKCE S256 and
// a state, on a 127.0.0.1 loopback; the browser's redirect brings the code,
// the page says all went well, and the exchange yields a refresh token —
// which is in no log line.
func TestSignIn(t *testing.T) {
	g, p := google(t)
	log := logs(t)
	var seen *url.URL
	page := make(chan string, 1)
	grant, err := oauth.SignIn(context.Background(), p, func(u string) error {
		seen, _ = url.Parse(u)
		go func() {
			text, err := g.Approve(u, true)
			if err != nil {
				text = err.Error()
			}
			page <- text
		}()
		return nil
	}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	q := seen.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(q.Get("state")) < 20 ||
		!strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") || q.Get("access_type") != "offline" {
		t.Fatalf("authorization URL lacks PKCE, state, loopback or offline access: %s", seen)
	}
	if !strings.HasPrefix(grant.RefreshToken, "1//fake-") || grant.ClientID != g.ClientID {
		t.Fatalf("grant = %+v", grant)
	}
	if text := <-page; !strings.Contains(text, "PgSafe is signed in to Google Drive") {
		t.Fatalf("the browser showed %q", text)
	}
	if strings.Contains(log.String(), grant.RefreshToken) || strings.Contains(log.String(), grant.Token.AccessToken) {
		t.Fatalf("a token is in the log: %s", log)
	}
}

// A redirect with another state is refused (and the flow keeps waiting); a
// "Deny" in the browser is a DeclinedError; nobody answering is a timeout;
// a cancelled context stops the wait.
func TestSignInRefusals(t *testing.T) {
	g, p := google(t)
	ctx := context.Background()
	_, err := oauth.SignIn(ctx, p, func(u string) error {
		go func() {
			pu, _ := url.Parse(u)
			redirect := pu.Query().Get("redirect_uri")
			resp, err := http.Get(redirect + "?code=stolen&state=forged")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "not the one PgSafe is waiting for") {
					t.Errorf("a forged state got %s: %s", resp.Status, b)
				}
			}
			g.Approve(u, false)
		}()
		return nil
	}, time.Minute)
	var d *oauth.DeclinedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "declined") {
		t.Fatalf("denied sign-in: %v", err)
	}
	if _, err := oauth.SignIn(ctx, p, func(string) error { return nil }, 200*time.Millisecond); !errors.Is(err, oauth.ErrSignInTimeout) {
		t.Fatalf("unanswered sign-in: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	if _, err := oauth.SignIn(cctx, p, func(string) error { cancel(); return nil }, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sign-in: %v", err)
	}
	if _, err := oauth.SignIn(ctx, p.WithClient("someone-else", ""), func(u string) error {
		go g.Approve(u, true)
		return nil
	}, 2*time.Second); err == nil {
		t.Fatal("a sign-in with an unknown client ID succeeded")
	}
	noID := p
	noID.ClientID = ""
	if _, err := oauth.SignIn(ctx, noID, func(string) error { return nil }, time.Second); !errors.Is(err, oauth.ErrNoClientID) {
		t.Fatalf("no client ID: %v", err)
	}
}

// A rotated refresh token is handed to save; a revoked grant is a
// ReauthError that names the service and what to do.
func TestTokenSource(t *testing.T) {
	g, p := google(t)
	ctx := context.Background()
	grant, err := oauth.SignIn(ctx, p, func(u string) error { go g.Approve(u, true); return nil }, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g.RotateRefresh = true
	var saved []string
	src := oauth.TokenSource(ctx, p, grant.RefreshToken, func(rt string) error { saved = append(saved, rt); return nil })
	if _, err := src.Token(); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || saved[0] == grant.RefreshToken {
		t.Fatalf("saved %d rotated tokens; want 1 new one", len(saved))
	}
	if _, err := src.Token(); err != nil || len(saved) != 1 || g.Refreshes() != 1 {
		t.Fatalf("a valid access token was refreshed again (%d refreshes, %v)", g.Refreshes(), err)
	}
	// The old refresh token no longer works: a Source still holding it must sign in again.
	old := oauth.TokenSource(ctx, p, grant.RefreshToken, nil)
	_, err = old.Token()
	if !oauth.IsReauth(err) || err.Error() != "sign in to Google Drive again: the permission PgSafe was given was revoked or has expired" {
		t.Fatalf("refresh with a rotated-away token: %v", err)
	}
	// A revoked grant: the client's request gets 401, refreshes once, and fails with ReauthError.
	g.Revoke()
	_, err = oauth.Client(ctx, src).Get(p.APIURL + "/about")
	if !oauth.IsReauth(err) {
		t.Fatalf("request after the grant was revoked: %v", err)
	}
}
