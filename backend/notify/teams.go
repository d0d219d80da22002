package notify

import "context"

// teams posts an Adaptive Card to a Microsoft Teams webhook (secret
// webhook_url): a Workflows "When a Teams webhook request is received"
// URL, or a legacy incoming-webhook connector; both take this shape.
type teams struct {
	url string
	red *redactor
}

func buildTeams(p *params) sender {
	u := p.secret("webhook_url", true, "the Teams workflow or incoming webhook URL")
	checkURL(p, "secrets.webhook_url", u, true)
	p.red.addURL(u)
	return &teams{url: u, red: p.red}
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"`
	Version string           `json:"version"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
	Body    []map[string]any `json:"body"`
}

func teamsPayload(ev Event) teamsMessage {
	body := []map[string]any{{
		"type": "TextBlock", "text": truncate(symbol(ev)+" "+ev.Title, 500),
		"weight": "Bolder", "size": "Medium", "wrap": true,
		"color": map[severity]string{sevProblem: "Attention", sevWarning: "Warning", sevOK: "Good"}[ev.severity()],
	}}
	if ev.Body != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": truncate(ev.Body, 10000), "wrap": true})
	}
	var factSet []map[string]string
	for _, f := range facts(ev) {
		factSet = append(factSet, map[string]string{"title": f.name, "value": truncate(f.value, 1000)})
	}
	body = append(body, map[string]any{"type": "FactSet", "facts": factSet})
	if c := body[0]["color"]; c == "" {
		delete(body[0], "color")
	}
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				MSTeams: map[string]any{"width": "Full"},
				Body:    body,
			},
		}},
	}
}

func (t *teams) send(ctx context.Context, ev Event) error {
	_, err := postJSON(ctx, t.red, t.url, teamsPayload(ev))
	return err
}
