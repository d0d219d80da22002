package notify

import (
	"context"
	"strings"
)

// slack posts to a Slack incoming webhook (secret webhook_url):
// {"text": fallback, "blocks": [header, body, facts]}.
type slack struct {
	url string
	red *redactor
}

func buildSlack(p *params) sender {
	u := p.secret("webhook_url", true, "the incoming webhook's URL, https://hooks.slack.com/services/…")
	checkURL(p, "secrets.webhook_url", u, true)
	p.red.addURL(u)
	return &slack{url: u, red: p.red}
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func slackPayload(ev Event) slackMessage {
	title := truncate(symbol(ev)+" "+ev.Title, 150)
	msg := slackMessage{
		Text:   slackEscaper.Replace(title),
		Blocks: []slackBlock{{Type: "header", Text: &slackText{Type: "plain_text", Text: title, Emoji: true}}},
	}
	if ev.Body != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscaper.Replace(ev.Body), 3000)}})
	}
	var lines []string
	for _, f := range facts(ev) {
		lines = append(lines, "*"+slackEscaper.Replace(f.name)+":* "+slackEscaper.Replace(f.value))
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "section",
		Text: &slackText{Type: "mrkdwn", Text: truncate(strings.Join(lines, "\n"), 3000)}})
	return msg
}

func (s *slack) send(ctx context.Context, ev Event) error {
	_, err := postJSON(ctx, s.red, s.url, slackPayload(ev))
	return err
}
