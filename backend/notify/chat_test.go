package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	slackPath   = "/services/T0001/B0002/slackSECRETtoken0123456789"
	discordPath = "/api/webhooks/1234567890/discordSECRETtoken-_abc"
	teamsPath   = "/workflows/abc123/triggers/manual/paths/invoke"
	teamsQuery  = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sig=teamsSECRETsig987"
	botToken    = "123456789:AAHbotSECRETtoken_-xyz"
)

func send(t *testing.T, n Notifier, ev Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Send(ctx, ev); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func checkJSONPost(t *testing.T, r request, path string) map[string]any {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.Path != path {
		t.Errorf("path = %q, want %q", r.Path, path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "PgSafe/") {
		t.Errorf("User-Agent = %q, want PgSafe/…", ua)
	}
	return r.json(t)
}

func TestSlack(t *testing.T) {
	srv := newServer(t)
	n := mustNew(t, config(KindSlack, nil, map[string]string{"webhook_url": srv.URL + slackPath}))
	send(t, n, sampleEvent())

	m := checkJSONPost(t, srv.only(t), slackPath)
	if got := m["text"]; got != "❌ Backup of orders failed" {
		t.Errorf("text = %q", got)
	}
	if got := dig(t, m, "blocks", 0, "type"); got != "header" {
		t.Errorf("blocks[0].type = %v", got)
	}
	if got := dig(t, m, "blocks", 0, "text", "text"); got != "❌ Backup of orders failed" {
		t.Errorf("header = %v", got)
	}
	// Slack's mrkdwn needs &, < and > escaped.
	if got := dig(t, m, "blocks", 1, "text", "text"); got != "pg_dump: error: connection to server failed &lt;timeout&gt; &amp; gave up" {
		t.Errorf("body section = %q", got)
	}
	want := "*Database:* orders\n*backup_id:* b-123\n*storage:* offsite-s3\n*Time:* 2026-11-03 04:05:06 UTC"
	if got := dig(t, m, "blocks", 2, "text", "text"); got != want {
		t.Errorf("facts section = %q, want %q", got, want)
	}
}

func TestDiscord(t *testing.T) {
	srv := newServer(t, http.StatusNoContent) // what Discord answers
	n := mustNew(t, config(KindDiscord, nil, map[string]string{"webhook_url": srv.URL + discordPath}))
	ev := sampleEvent()
	ev.Body += " @everyone"
	send(t, n, ev)

	m := checkJSONPost(t, srv.only(t), discordPath)
	if got := m["username"]; got != "PgSafe" {
		t.Errorf("username = %v", got)
	}
	if got := dig(t, m, "allowed_mentions", "parse"); fmt.Sprint(got) != "[]" {
		t.Errorf("allowed_mentions.parse = %v, want [] (no @everyone pings)", got)
	}
	embed := dig(t, m, "embeds", 0)
	if got := dig(t, embed, "title"); got != "❌ Backup of orders failed" {
		t.Errorf("title = %v", got)
	}
	if got := dig(t, embed, "description"); got != ev.Body {
		t.Errorf("description = %v", got)
	}
	if got := dig(t, embed, "color"); got != float64(0xD93F0B) {
		t.Errorf("color = %v", got)
	}
	if got := dig(t, embed, "timestamp"); got != "2026-11-03T04:05:06Z" {
		t.Errorf("timestamp = %v", got)
	}
	if got := dig(t, embed, "fields", 0); fmt.Sprint(got) != "map[inline:true name:Database value:orders]" {
		t.Errorf("fields[0] = %v", got)
	}
	if got := dig(t, embed, "fields", 2, "value"); got != "offsite-s3" {
		t.Errorf("fields[2].value = %v", got)
	}
}

func TestTeams(t *testing.T) {
	srv := newServer(t, http.StatusAccepted) // what a Teams workflow answers
	n := mustNew(t, config(KindTeams, nil, map[string]string{"webhook_url": srv.URL + teamsPath + "?" + teamsQuery}))
	send(t, n, sampleEvent())

	r := srv.only(t)
	m := checkJSONPost(t, r, teamsPath)
	if got := m["type"]; got != "message" {
		t.Errorf("type = %v", got)
	}
	att := dig(t, m, "attachments", 0)
	if got := dig(t, att, "contentType"); got != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType = %v", got)
	}
	card := dig(t, att, "content")
	if got := dig(t, card, "type"); got != "AdaptiveCard" {
		t.Errorf("content.type = %v", got)
	}
	if got := dig(t, card, "body", 0, "text"); got != "❌ Backup of orders failed" {
		t.Errorf("title block = %v", got)
	}
	if got := dig(t, card, "body", 0, "color"); got != "Attention" {
		t.Errorf("title colour = %v", got)
	}
	if got := dig(t, card, "body", 1, "text"); got != sampleEvent().Body {
		t.Errorf("body block = %v", got)
	}
	if got := dig(t, card, "body", 2, "type"); got != "FactSet" {
		t.Errorf("body[2].type = %v", got)
	}
	if got := dig(t, card, "body", 2, "facts", 0); fmt.Sprint(got) != "map[title:Database value:orders]" {
		t.Errorf("facts[0] = %v", got)
	}
}

func TestTelegram(t *testing.T) {
	srv := newServer(t)
	srv.answer = func(request) string { return `{"ok":true,"result":{"message_id":7}}` }
	n := mustNew(t, config(KindTelegram, map[string]string{"chat_id": "-1001234567890", "api_base": srv.URL},
		map[string]string{"bot_token": botToken}))
	send(t, n, sampleEvent())

	m := checkJSONPost(t, srv.only(t), "/bot"+botToken+"/sendMessage")
	if m["chat_id"] != "-1001234567890" || m["parse_mode"] != "HTML" || m["disable_web_page_preview"] != true {
		t.Errorf("chat_id, parse_mode, disable_web_page_preview = %v, %v, %v", m["chat_id"], m["parse_mode"], m["disable_web_page_preview"])
	}
	want := "<b>❌ Backup of orders failed</b>\n\n" +
		"pg_dump: error: connection to server failed &lt;timeout&gt; &amp; gave up\n\n" +
		"<b>Database:</b> orders\n<b>backup_id:</b> b-123\n<b>storage:</b> offsite-s3\n<b>Time:</b> 2026-11-03 04:05:06 UTC\n"
	if got := m["text"]; got != want {
		t.Errorf("text = %q\nwant   %q", got, want)
	}
}

func TestTelegramRefusal(t *testing.T) {
	// The Bot API answers 200 with ok=false rarely, 4xx with a description
	// usually: both are errors that quote the description, not the token.
	for _, tc := range []struct {
		status int
		answer string
		want   string
	}{
		{http.StatusOK, `{"ok":false,"description":"Forbidden: bot was blocked by the user"}`, "refused the message: Forbidden: bot was blocked"},
		{http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, "HTTP 400 Bad Request: {\"ok\":false"},
	} {
		srv := newServer(t, tc.status)
		srv.answer = func(request) string { return tc.answer }
		n := mustNew(t, config(KindTelegram, map[string]string{"chat_id": "@pgsafe_alerts", "api_base": srv.URL + "/"},
			map[string]string{"bot_token": botToken}))
		err := n.Send(context.Background(), sampleEvent())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("status %d: err = %v, want it to contain %q", tc.status, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error quotes the token: %v", err)
		}
		if got := srv.only(t).Path; got != "/bot"+botToken+"/sendMessage" {
			t.Errorf("path = %q", got)
		}
	}
}

func TestWebhookDefaultJSON(t *testing.T) {
	srv := newServer(t)
	n := mustNew(t, config(KindWebhook, map[string]string{"url": srv.URL + "/hooks/pgsafe?x=1"}, nil))
	send(t, n, sampleEvent())

	r := srv.only(t)
	checkJSONPost(t, r, "/hooks/pgsafe")
	var got Event
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := sampleEvent()
	if got.Kind != want.Kind || got.Database != want.Database || got.Title != want.Title || got.Body != want.Body ||
		!got.At.Equal(want.At) || fmt.Sprint(got.Fields) != fmt.Sprint(want.Fields) {
		t.Errorf("body = %+v\nwant   %+v", got, want)
	}
}

func TestWebhookTemplateMethodHeaders(t *testing.T) {
	srv := newServer(t)
	n := mustNew(t, config(KindWebhook, map[string]string{
		"url":          srv.URL + "/notify",
		"method":       "put",
		"headers":      "X-Env: production\n\nAuthorization: Bearer overridden-by-secret",
		"content_type": "application/vnd.pager+json",
		"body":         `{"summary": {{json .Title}}, "db": {{json .Database}}, "severity": "{{if eq .Kind "backup.failed"}}critical{{end}}", "storage": {{json (index .Fields "storage")}}}`,
	}, map[string]string{"headers": "Authorization: Bearer hdrSECRET42\nX-Api-Key: keySECRET43"}))
	send(t, n, sampleEvent())

	r := srv.only(t)
	if r.Method != http.MethodPut || r.Path != "/notify" {
		t.Errorf("%s %s, want PUT /notify", r.Method, r.Path)
	}
	for name, want := range map[string]string{
		"X-Env":         "production",
		"Authorization": "Bearer hdrSECRET42",
		"X-Api-Key":     "keySECRET43",
		"Content-Type":  "application/vnd.pager+json",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	want := `{"summary": "Backup of orders failed", "db": "orders", "severity": "critical", "storage": "offsite-s3"}`
	if string(r.Body) != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}
}

func TestWebhookGETAndSecretURL(t *testing.T) {
	srv := newServer(t)
	n := mustNew(t, config(KindWebhook, map[string]string{"method": "GET"}, map[string]string{"url": srv.URL + "/ping/uuidSECRET77"}))
	send(t, n, sampleEvent())
	r := srv.only(t)
	if r.Method != http.MethodGet || r.Path != "/ping/uuidSECRET77" || len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
		t.Errorf("got %s %s with %d bytes, Content-Type %q; want a bare GET", r.Method, r.Path, len(r.Body), r.Header.Get("Content-Type"))
	}
}

// Every answer that is not 2xx is an error quoting the status and the start
// of the answer; a redirect is not followed.
func TestHTTPErrors(t *testing.T) {
	srv := newServer(t, http.StatusFound)
	srv.answer = func(request) string { return "moved\n\tsomewhere else " + strings.Repeat("x", 500) }
	n := mustNew(t, config(KindSlack, nil, map[string]string{"webhook_url": srv.URL + slackPath}))
	err := n.Send(context.Background(), sampleEvent())
	se, ok := errors.AsType[*StatusError](err)
	if !ok || se.Code != http.StatusFound {
		t.Fatalf("err = %v, want a *StatusError 302", err)
	}
	if !strings.HasPrefix(err.Error(), `slack notifier "ops slack": HTTP 302 Found: moved somewhere else xxx`) || len(se.Body) > 210 {
		t.Errorf("err = %q (excerpt %d bytes)", err, len(se.Body))
	}
	if len(srv.got()) != 1 {
		t.Errorf("%d requests: the redirect was followed", len(srv.got()))
	}
}

// secretKinds are notifiers whose URL or headers hold a secret, with the
// secret fragments that must never show in an error or a log.
func secretKinds(base string) []struct {
	name    string
	cfg     func() (map[string]string, map[string]string)
	kind    string
	secrets []string
} {
	return []struct {
		name    string
		cfg     func() (map[string]string, map[string]string)
		kind    string
		secrets []string
	}{
		{"slack", func() (map[string]string, map[string]string) {
			return nil, map[string]string{"webhook_url": base + slackPath}
		}, KindSlack, []string{"slackSECRET", slackPath}},
		{"discord", func() (map[string]string, map[string]string) {
			return nil, map[string]string{"webhook_url": base + discordPath}
		}, KindDiscord, []string{"discordSECRET", discordPath}},
		{"teams", func() (map[string]string, map[string]string) {
			return nil, map[string]string{"webhook_url": base + teamsPath + "?" + teamsQuery}
		}, KindTeams, []string{"teamsSECRET", "abc123"}},
		{"telegram", func() (map[string]string, map[string]string) {
			return map[string]string{"chat_id": "42", "api_base": base}, map[string]string{"bot_token": botToken}
		}, KindTelegram, []string{"botSECRET", botToken, "123456789%3A"}},
		{"webhook", func() (map[string]string, map[string]string) {
			return nil, map[string]string{"url": base + "/ping/uuidSECRET77", "headers": "Authorization: Bearer hdrSECRET42"}
		}, KindWebhook, []string{"uuidSECRET77", "hdrSECRET42"}},
		{"heartbeat healthchecks", func() (map[string]string, map[string]string) {
			return map[string]string{"service": "healthchecks"}, map[string]string{"url": base + "/hcUUIDsecret55"}
		}, KindHeartbeat, []string{"hcUUIDsecret55"}},
		{"heartbeat slug", func() (map[string]string, map[string]string) {
			return map[string]string{"service": "healthchecks"}, map[string]string{"url": base + "/pingKEYsecret66/{database}?create=1"}
		}, KindHeartbeat, []string{"pingKEYsecret66"}},
		{"heartbeat uptime-kuma", func() (map[string]string, map[string]string) {
			return map[string]string{"service": "uptime-kuma"}, map[string]string{"url": base + "/api/push/kumaTOKENsecret7"}
		}, KindHeartbeat, []string{"kumaTOKENsecret7"}},
		{"heartbeat url", func() (map[string]string, map[string]string) {
			return map[string]string{"service": "url"}, map[string]string{"url": base + "/beat?key=urlKEYsecret8"}
		}, KindHeartbeat, []string{"urlKEYsecret8"}},
	}
}

// A server that echoes the request (path, query, headers) in its error
// page, and a server that is gone: neither error shows a secret.
func TestErrorsNeverShowSecrets(t *testing.T) {
	srv := newServer(t, http.StatusUnauthorized)
	srv.answer = func(r request) string {
		auth := r.Header.Get("Authorization")
		return fmt.Sprintf("invalid token in %s (auth %q, token %s)", r.Path, auth, strings.TrimPrefix(auth, "Bearer "))
	}
	gone := newServer(t)
	gone.Close()
	for _, base := range []string{srv.URL, gone.URL} {
		for _, k := range secretKinds(base) {
			settings, secrets := k.cfg()
			n := mustNew(t, config(k.kind, settings, secrets))
			err := n.Send(context.Background(), sampleEvent())
			if err == nil {
				t.Fatalf("%s against %s: no error", k.name, base)
			}
			msg := err.Error() + fmt.Sprintf(" %v %+v %#v", err, err, n)
			for _, s := range k.secrets {
				if strings.Contains(msg, s) {
					t.Errorf("%s: error or notifier shows %q: %s", k.name, s, msg)
				}
			}
			if base == srv.URL && !strings.Contains(err.Error(), "HTTP 401 Unauthorized: invalid token in") {
				t.Errorf("%s: err = %v, want the status and the answer (redacted)", k.name, err)
			}
			if base == gone.URL && !strings.Contains(err.Error(), "connection refused") {
				t.Errorf("%s: err = %v, want connection refused", k.name, err)
			}
		}
	}
}
