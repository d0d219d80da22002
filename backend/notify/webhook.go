package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"text/template"
)

// webhook calls any URL: method (POST), headers, and a body that is the
// event as JSON or a text/template over the Event.
type webhook struct {
	url    string
	method string
	header http.Header
	body   *template.Template // nil: the event as JSON
	red    *redactor
}

var webhookMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodGet}

// templateFuncs are available in a webhook body template: json encodes a
// value as JSON (a string with quotes, so "text": {{json .Title}} is safe).
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

func buildWebhook(p *params) sender {
	w := &webhook{red: p.red, header: http.Header{}}
	plainURL := p.setting("url", false, "")
	secretURL := p.secret("url", false, "")
	switch {
	case plainURL != "" && secretURL != "":
		p.fail("settings.url", "set either the setting url or the secret url (for a URL with a token in it), not both")
	case plainURL == "" && secretURL == "":
		p.fail("settings.url", "missing (the URL to call; a URL with a token in it belongs in the secret url)")
	case plainURL != "":
		checkURL(p, "settings.url", plainURL, false)
		w.url = plainURL
	default:
		checkURL(p, "secrets.url", secretURL, true)
		p.red.addURL(secretURL)
		w.url = secretURL
	}

	w.method = strings.ToUpper(p.setting("method", false, ""))
	if w.method == "" {
		w.method = http.MethodPost
	}
	if !slices.Contains(webhookMethods, w.method) {
		p.fail("settings.method", fmt.Sprintf("%q is not one of %s", w.method, strings.Join(webhookMethods, ", ")))
	}

	contentType := p.setting("content_type", false, "")
	if contentType == "" {
		contentType = "application/json"
	}
	w.header.Set("Content-Type", contentType)
	parseHeaders(p, "settings.headers", p.rawSetting("headers"), w.header, false)
	// Secret headers come last: they win over a plain header of the same name.
	if sh := p.secret("headers", false, ""); sh != "" {
		parseHeaders(p, "secrets.headers", sh, w.header, true)
	}

	if src := p.rawSetting("body"); strings.TrimSpace(src) != "" {
		t, err := template.New("body").Funcs(templateFuncs).Option("missingkey=zero").Parse(src)
		if err != nil {
			p.fail("settings.body", "not a valid template: "+err.Error())
		}
		w.body = t
	}
	return w
}

// parseHeaders reads "Name: value" lines (blank lines skipped) into h. Lines
// of a secret are not quoted in problems, and their values are redacted.
func parseHeaders(p *params, field, text string, h http.Header, secret bool) {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			what := fmt.Sprintf("line %d", i+1)
			if !secret {
				what = fmt.Sprintf("line %d (%q)", i+1, line)
			}
			p.fail(field, what+" is not a header: write one \"Name: value\" per line")
			return
		}
		if secret {
			p.red.add(value)
			// "Bearer TOKEN": the token alone is secret too.
			for _, word := range strings.Fields(value) {
				if len(word) >= 8 {
					p.red.add(word)
				}
			}
		}
		h.Set(name, value)
	}
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 126 || c <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// webhookBody renders the body for ev.
func (w *webhook) render(ev Event) ([]byte, error) {
	if w.body == nil {
		return json.Marshal(ev)
	}
	var b bytes.Buffer
	if err := w.body.Execute(&b, ev); err != nil {
		return nil, fmt.Errorf("rendering the body template: %w", err)
	}
	return b.Bytes(), nil
}

func (w *webhook) send(ctx context.Context, ev Event) error {
	var body []byte
	h := w.header
	if w.method != http.MethodGet {
		var err error
		if body, err = w.render(ev); err != nil {
			return err
		}
	} else {
		h = h.Clone()
		h.Del("Content-Type")
	}
	_, err := doHTTP(ctx, w.red, w.method, w.url, h, body)
	return err
}
