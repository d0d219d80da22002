package notify

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/store"
)

func TestNewValidation(t *testing.T) {
	email := map[string]string{"host": "smtp.example.com", "from": "pgsafe@example.com", "to": "ops@example.com"}
	with := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	withheld := config(KindSlack, nil, nil)
	var s store.Secret
	if err := json.Unmarshal([]byte(`{"set": true}`), &s); err != nil {
		t.Fatal(err)
	}
	withheld.Secrets = map[string]store.Secret{"webhook_url": s}

	for _, tc := range []struct {
		name      string
		cfg       store.NotifierConfig
		field     string
		problem   string // part of the message
		notInText string // a secret that must not show
	}{
		{"unknown kind", config("pager", nil, nil), "kind", `unknown notifier kind "pager"`, ""},
		{"email without host", config(KindEmail, with(email, "host", ""), nil), "settings.host", "missing (the SMTP server's host name", ""},
		{"email without from", config(KindEmail, with(email, "from", ""), nil), "settings.from", "missing (the sender address", ""},
		{"email without to", config(KindEmail, with(email, "to", ""), nil), "settings.to", "missing (the recipients", ""},
		{"email bad to", config(KindEmail, with(email, "to", "ops@example.com, not an address"), nil), "settings.to", "not a comma-separated list", ""},
		{"email bad security", config(KindEmail, with(email, "security", "ssl"), nil), "settings.security", `"ssl" is not one of starttls, tls, none`, ""},
		{"email bad port", config(KindEmail, with(email, "port", "99999"), nil), "settings.port", `"99999" is not a number from 1 to 65535`, ""},
		{"email user without password", config(KindEmail, with(email, "username", "pgsafe"), nil), "secrets.password", `missing (the SMTP password of "pgsafe")`, ""},
		{"email password without user", config(KindEmail, email, map[string]string{"password": "pwSECRET"}), "settings.username", "missing", "pwSECRET"},
		{"email password in clear", config(KindEmail, with(with(email, "security", "none"), "username", "u"), map[string]string{"password": "pwSECRET"}),
			"settings.security", "unencrypted", "pwSECRET"},
		{"email missing CA file", config(KindEmail, with(email, "ca_file", "/nonexistent/ca.pem"), nil), "settings.ca_file", "no such file", ""},
		{"slack without url", config(KindSlack, nil, nil), "secrets.webhook_url", "missing (the incoming webhook's URL", ""},
		{"slack withheld", withheld, "secrets.webhook_url", "withheld", ""},
		{"slack URL as a setting", config(KindSlack, map[string]string{"webhook_url": "https://hooks.slack.com/x"}, map[string]string{"webhook_url": "https://hooks.slack.com/x"}),
			"settings.webhook_url", "not a setting of a slack notifier (it takes none)", ""},
		{"slack bad url", config(KindSlack, nil, map[string]string{"webhook_url": "hooks.slack.com/services/urlSECRET"}), "secrets.webhook_url", "not an http:// or https:// URL", "urlSECRET"},
		{"discord without url", config(KindDiscord, nil, nil), "secrets.webhook_url", "missing", ""},
		{"teams without url", config(KindTeams, nil, nil), "secrets.webhook_url", "missing", ""},
		{"telegram without token", config(KindTelegram, map[string]string{"chat_id": "1"}, nil), "secrets.bot_token", "missing (the bot's token", ""},
		{"telegram bad token", config(KindTelegram, map[string]string{"chat_id": "1"}, map[string]string{"bot_token": "tokSECRET"}), "secrets.bot_token", "not a bot token", "tokSECRET"},
		{"telegram without chat", config(KindTelegram, nil, map[string]string{"bot_token": botToken}), "settings.chat_id", "missing (the chat's numeric id", ""},
		{"telegram bad api_base", config(KindTelegram, map[string]string{"chat_id": "1", "api_base": "ftp://x"}, map[string]string{"bot_token": botToken}), "settings.api_base", "not an http", ""},
		{"webhook without url", config(KindWebhook, nil, nil), "settings.url", "missing (the URL to call", ""},
		{"webhook two urls", config(KindWebhook, map[string]string{"url": "https://a"}, map[string]string{"url": "https://b"}), "settings.url", "not both", ""},
		{"webhook bad method", config(KindWebhook, map[string]string{"url": "https://a", "method": "DELETE"}, nil), "settings.method", `"DELETE" is not one of`, ""},
		{"webhook bad header", config(KindWebhook, map[string]string{"url": "https://a", "headers": "X-Ok: 1\nno colon here"}, nil), "settings.headers", `line 2 ("no colon here") is not a header`, ""},
		{"webhook bad secret header", config(KindWebhook, map[string]string{"url": "https://a"}, map[string]string{"headers": "Bearer hdrSECRET"}), "secrets.headers", "line 1 is not a header", "hdrSECRET"},
		{"webhook bad template", config(KindWebhook, map[string]string{"url": "https://a", "body": "{{.Title"}, nil), "settings.body", "not a valid template", ""},
		{"webhook unknown secret", config(KindWebhook, map[string]string{"url": "https://a"}, map[string]string{"token": "t"}), "secrets.token", "not a secret of a webhook notifier (it takes headers, url)", ""},
		{"desktop with a setting", config(KindDesktop, map[string]string{"sound": "on"}, nil), "settings.sound", "it takes none", ""},
		{"unknown event", config(KindDesktop, nil, nil, EventBackupFailed, "backup.began"), "events", `unknown event "backup.began"`, ""},
	} {
		_, err := New(tc.cfg)
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok {
			t.Errorf("%s: err = %v, want a *ConfigError", tc.name, err)
			continue
		}
		if ce.Field != tc.field || !strings.Contains(err.Error(), tc.problem) || !strings.HasPrefix(err.Error(), `notifier "`+tc.cfg.Name+`" (`+tc.cfg.Kind+"): "+tc.field+": ") {
			t.Errorf("%s: err = %q (field %s), want field %s and %q", tc.name, err, ce.Field, tc.field, tc.problem)
		}
		if tc.notInText != "" && strings.Contains(err.Error(), tc.notInText) {
			t.Errorf("%s: the error shows the secret: %v", tc.name, err)
		}
	}
}

func TestNewValid(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, newTestCA(t).certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.NotifierConfig{
		config(KindEmail, map[string]string{"host": "smtp.example.com", "port": "2525", "security": "TLS", "from": "PgSafe <a@example.com>",
			"to": "b@example.com, C <c@example.com>", "username": "a", "ca_file": ca}, map[string]string{"password": "p"}),
		config(KindEmail, map[string]string{"host": "localhost", "security": "none", "from": "a@x.org", "to": "b@x.org", "username": "u"}, map[string]string{"password": "p"}),
		config(KindSlack, nil, map[string]string{"webhook_url": "https://hooks.slack.com/services/T/B/x"}),
		config(KindTelegram, map[string]string{"chat_id": "@pgsafe_alerts"}, map[string]string{"bot_token": botToken}),
		config(KindWebhook, map[string]string{"url": "https://example.com/x", "method": "patch", "headers": "A: b"}, nil),
		config(KindDesktop, nil, nil, EventBackupSucceeded),
	} {
		if _, err := New(c); err != nil {
			t.Errorf("New(%s): %v", c.Kind, err)
		}
	}
}

func TestFromConfigs(t *testing.T) {
	off := config(KindDesktop, nil, nil)
	off.Name, off.Enabled = "off", false
	bad := config(KindSlack, nil, nil)
	good := config(KindDesktop, nil, nil)
	ns, err := FromConfigs([]store.NotifierConfig{off, bad, good})
	if len(ns) != 1 || ns[0].Name() != good.Name || ns[0].Kind() != KindDesktop {
		t.Errorf("notifiers = %v, want only %q", ns, good.Name)
	}
	if _, ok := errors.AsType[*ConfigError](err); !ok || !strings.Contains(err.Error(), `notifier "ops slack" (slack): secrets.webhook_url`) {
		t.Errorf("err = %v, want the slack notifier's ConfigError", err)
	}
}

func TestEventFilter(t *testing.T) {
	all := []string{EventBackupStarted, EventBackupFailed, EventBackupSucceeded, EventVerifyFailed, EventDrillFailed,
		EventDatabaseDown, EventDatabaseUp, EventStorageNearlyFull}
	if got := slices.Collect(func(yield func(string) bool) {
		for _, e := range Events() {
			if !yield(e.Kind) {
				return
			}
		}
	}); !slices.Equal(got, all) {
		t.Errorf("Events() = %v", got)
	}
	for _, tc := range []struct {
		events []string
		want   []string
	}{
		{nil, []string{EventBackupFailed, EventVerifyFailed, EventDrillFailed, EventDatabaseDown, EventDatabaseUp, EventStorageNearlyFull}},
		{[]string{EventBackupSucceeded}, []string{EventBackupSucceeded}},
		{[]string{EventBackupFailed, EventDatabaseDown}, []string{EventBackupFailed, EventDatabaseDown}},
	} {
		n := mustNew(t, config(KindDesktop, nil, nil, tc.events...))
		var got []string
		for _, e := range all {
			if n.Wants(e) {
				got = append(got, e)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Events %v: wants %v, want %v", tc.events, got, tc.want)
		}
		if !n.Wants(EventTest) {
			t.Errorf("Events %v: the test event is filtered out", tc.events)
		}
	}
}

func TestEventScrubbed(t *testing.T) {
	ev := Event{
		Kind:     EventDatabaseDown,
		Database: "orders",
		Body:     `could not connect: postgres://app:pwSECRET1@db.internal:5432/orders?sslmode=require; "host=db password=pwSECRET2 user=app"; password='pw SECRET3'`,
		Fields:   map[string]string{"password": "pwSECRET4", "error": "token=tokSECRET5", "host": "db.internal"},
	}
	got := ev.normalized()
	text := plainText(got)
	for _, s := range []string{"pwSECRET1", "pwSECRET2", "SECRET3", "pwSECRET4", "tokSECRET5"} {
		if strings.Contains(text, s) {
			t.Errorf("%q still in %q", s, text)
		}
	}
	for _, s := range []string{"postgres://app:[redacted]@db.internal:5432/orders", "password=[redacted] user=app", "Database down: orders", "host: db.internal"} {
		if !strings.Contains(text, s) {
			t.Errorf("%q missing from %q", s, text)
		}
	}
	if ev.Fields["password"] != "pwSECRET4" {
		t.Error("normalized changed the caller's map")
	}
	if got.At.IsZero() {
		t.Error("At not set")
	}
}
