package notify

import (
	"context"
	"time"
)

// discord posts to a Discord channel webhook (secret webhook_url) one
// embed; mentions in event texts (@everyone) are disabled.
type discord struct {
	url string
	red *redactor
}

func buildDiscord(p *params) sender {
	u := p.secret("webhook_url", true, "the channel webhook's URL, https://discord.com/api/webhooks/…")
	checkURL(p, "secrets.webhook_url", u, true)
	p.red.addURL(u)
	return &discord{url: u, red: p.red}
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Timestamp   string         `json:"timestamp"`
}

type discordMessage struct {
	Username        string              `json:"username"`
	Embeds          []discordEmbed      `json:"embeds"`
	AllowedMentions map[string][]string `json:"allowed_mentions"`
}

func discordPayload(ev Event) discordMessage {
	e := discordEmbed{
		Title:       truncate(symbol(ev)+" "+ev.Title, 256),
		Description: truncate(ev.Body, 4000),
		Color:       colour(ev),
		Timestamp:   ev.At.UTC().Format(time.RFC3339),
	}
	for _, f := range facts(ev) {
		if f.name == "Time" || len(e.Fields) == 25 {
			continue // the embed's timestamp shows it
		}
		v := f.value
		if v == "" {
			v = "—"
		}
		e.Fields = append(e.Fields, discordField{Name: truncate(f.name, 256), Value: truncate(v, 1024), Inline: len(v) < 40})
	}
	return discordMessage{Username: "PgSafe", Embeds: []discordEmbed{e}, AllowedMentions: map[string][]string{"parse": {}}}
}

func (d *discord) send(ctx context.Context, ev Event) error {
	_, err := postJSON(ctx, d.red, d.url, discordPayload(ev))
	return err
}
