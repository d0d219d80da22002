package testenv

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// oauthFake is the authorization server of a fake cloud service (Dropbox,
// OneDrive), written from the providers' documentation of OAuth 2.0 for
// installed apps: an authorize page with "Allow" and "Cancel" (as a person
// sees it; Approve clicks one), and a token endpoint that checks the client
// ID, PKCE S256, the redirect URI (a 127.0.0.1 loopback) and the code, and
// refreshes (rotating the refresh token when the provider does), answering
// invalid_grant once the grant is revoked.
type oauthFake struct {
	ClientID string
	// ClientSecret, when set, is the client's secret: the token endpoint
	// refuses a request without it (invalid_client), as Microsoft does for
	// a client registered with one.
	ClientSecret  string
	authorizePath string
	tokenPath     string
	// need are authorize parameters without which the provider hands out
	// no refresh token (Dropbox: token_access_type=offline).
	need map[string]string
	// scope, when set, must be among the requested scopes (Microsoft:
	// offline_access).
	scope  string
	rotate bool
	name   string // on the page: "Dropbox"

	mu        sync.Mutex
	pending   map[string]authPending
	refresh   map[string]bool
	access    map[string]bool
	refreshes int
	issued    []string
}

type authPending struct{ redirect, state, challenge, scope string }

func newOAuthFake(name, authorizePath, tokenPath string) *oauthFake {
	return &oauthFake{ClientID: "pgsafe-test-" + randomHex(6), authorizePath: authorizePath, tokenPath: tokenPath, name: name,
		pending: map[string]authPending{}, refresh: map[string]bool{}, access: map[string]bool{}}
}

// valid reports whether an access token was issued and not revoked.
func (o *oauthFake) valid(token string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.access[token]
}

func (o *oauthFake) revoke() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refresh, o.access = map[string]bool{}, map[string]bool{}
}

// Tokens returns every access and refresh token handed out, for tests
// that look for them where they must not be.
func (o *oauthFake) Tokens() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.issued...)
}

// Refreshes is how many times a refresh token was used.
func (o *oauthFake) Refreshes() int { o.mu.Lock(); defer o.mu.Unlock(); return o.refreshes }

var oauthPage = template.Must(template.New("auth").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>{{.Name}} (fake): sign in</title></head>
<body style="font-family:sans-serif"><h1>PgSafe would like to access the files in your {{.Name}}</h1>
<a id="deny" href="{{.Path}}/deny?req={{.Req}}">Cancel</a> <a id="approve" href="{{.Path}}/approve?req={{.Req}}">Allow</a></body></html>`))

// handle serves the OAuth endpoints; false: r is for another endpoint.
func (o *oauthFake) handle(w http.ResponseWriter, r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == o.authorizePath:
		o.authorize(w, r)
	case p == o.authorizePath+"/approve" || p == o.authorizePath+"/deny":
		o.answer(w, r, p == o.authorizePath+"/approve")
	case p == o.tokenPath && r.Method == http.MethodPost:
		o.token(w, r)
	case p == "/fake/revoke" && r.Method == http.MethodPost:
		o.revoke()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
	default:
		return false
	}
	return true
}

func (o *oauthFake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(msg string) { http.Error(w, "invalid_request: "+msg, http.StatusBadRequest) }
	if q.Get("client_id") != o.ClientID {
		http.Error(w, "invalid_client: the app was not found", http.StatusBadRequest)
		return
	}
	for k, v := range o.need {
		if q.Get(k) != v {
			fail(fmt.Sprintf("without %s=%s no refresh token is issued", k, v))
			return
		}
	}
	switch {
	case q.Get("response_type") != "code":
		fail("response_type must be code")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		fail("PKCE with code_challenge_method=S256 is required")
		return
	case q.Get("state") == "":
		fail("state is missing")
		return
	case o.scope != "" && !strings.Contains(" "+q.Get("scope")+" ", " "+o.scope+" "):
		fail("the scope " + o.scope + " is needed for a refresh token")
		return
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		fail("redirect_uri must be a loopback address, http://127.0.0.1:PORT/")
		return
	}
	id := randomHex(12)
	o.mu.Lock()
	o.pending[id] = authPending{redirect: q.Get("redirect_uri"), state: q.Get("state"), challenge: q.Get("code_challenge"), scope: q.Get("scope")}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	oauthPage.Execute(w, struct{ Name, Path, Req string }{o.name, o.authorizePath, id})
}

func (o *oauthFake) answer(w http.ResponseWriter, r *http.Request, allow bool) {
	o.mu.Lock()
	req, ok := o.pending[r.URL.Query().Get("req")]
	delete(o.pending, r.URL.Query().Get("req"))
	code := "code-" + randomHex(16)
	if ok && allow {
		o.pending[code] = req
	}
	o.mu.Unlock()
	if !ok {
		http.Error(w, "this sign-in request is unknown or used", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {req.state}}
	if allow {
		v.Set("code", code)
	} else {
		v.Set("error", "access_denied")
	}
	http.Redirect(w, r, req.redirect+"?"+v.Encode(), http.StatusFound)
}

func (o *oauthFake) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	tokenErr := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":"fake: %s"}`, code, code)
	}
	if id != o.ClientID || (o.ClientSecret != "" && secret != o.ClientSecret) {
		tokenErr(http.StatusUnauthorized, "invalid_client")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var rt string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		req, ok := o.pending[r.PostForm.Get("code")]
		delete(o.pending, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok, base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge:
			tokenErr(http.StatusBadRequest, "invalid_grant")
			return
		case r.PostForm.Get("redirect_uri") != req.redirect:
			tokenErr(http.StatusBadRequest, "invalid_grant")
			return
		}
		rt = "rt-" + randomHex(24)
		o.refresh[rt] = true
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if !o.refresh[old] {
			tokenErr(http.StatusBadRequest, "invalid_grant")
			return
		}
		o.refreshes++
		rt = old
		if o.rotate {
			delete(o.refresh, old)
			rt = "rt-" + randomHex(24)
			o.refresh[rt] = true
		}
	default:
		tokenErr(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	at := "at-" + randomHex(24)
	o.access[at] = true
	o.issued = append(o.issued, at, rt)
	out := map[string]any{"access_token": at, "token_type": "bearer", "expires_in": 14400}
	if r.PostForm.Get("grant_type") == "authorization_code" || o.rotate {
		out["refresh_token"] = rt
	}
	writeJSON(w, out)
}

// approve does what a person does in the browser: opens the authorization
// URL and clicks "Allow" (or "Cancel"), following the redirect to the
// app's loopback page, whose text it returns.
func (o *oauthFake) approve(base, authURL string, allow bool) (string, error) {
	resp, err := http.Get(authURL)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authorize page: %s: %s", resp.Status, page)
	}
	word := "approve"
	if !allow {
		word = "deny"
	}
	m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(o.authorizePath) + `/` + word + `\?req=[^"]+)"`).FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("authorize page has no %s link: %s", word, page)
	}
	resp, err = http.Get(base + string(m[1]))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
