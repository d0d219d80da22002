package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// telegram sends a message through the Telegram Bot API: POST
// {api_base}/bot{bot_token}/sendMessage with chat_id and HTML text.
type telegram struct {
	base, token, chatID string
	red                 *redactor
}

// DefaultTelegramAPI is the Bot API's address (setting api_base).
const DefaultTelegramAPI = "https://api.telegram.org"

var (
	telegramToken  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	telegramChatID = regexp.MustCompile(`^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,})$`)
)

func buildTelegram(p *params) sender {
	token := p.secret("bot_token", true, "the bot's token from @BotFather, 123456:ABC…")
	if token != "" && !telegramToken.MatchString(token) {
		p.fail("secrets.bot_token", "not a bot token (digits, a colon, then letters, digits, _ or -)")
	}
	chat := p.setting("chat_id", true, "the chat's numeric id, or @channelname")
	if chat != "" && !telegramChatID.MatchString(chat) {
		p.fail("settings.chat_id", fmt.Sprintf("%q is not a chat id (a number such as -1001234567890, or @channelname)", chat))
	}
	base := p.setting("api_base", false, "")
	if base == "" {
		base = DefaultTelegramAPI
	}
	checkURL(p, "settings.api_base", base, false)
	return &telegram{base: strings.TrimRight(base, "/"), token: token, chatID: chat, red: p.red}
}

type telegramMessage struct {
	ChatID                string `json:"chat_id"`
	Text                  string `json:"text"`
	ParseMode             string `json:"parse_mode"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

// telegramText is the message in Telegram's HTML subset, under its 4096
// character limit.
func telegramText(ev Event) string {
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(truncate(symbol(ev)+" "+ev.Title, 300)) + "</b>\n")
	if ev.Body != "" {
		b.WriteString("\n" + html.EscapeString(truncate(strings.TrimRight(ev.Body, "\n"), 2500)) + "\n")
	}
	b.WriteString("\n")
	for _, f := range facts(ev) {
		b.WriteString("<b>" + html.EscapeString(truncate(f.name, 50)) + ":</b> " + html.EscapeString(truncate(f.value, 200)) + "\n")
	}
	return b.String()
}

func (t *telegram) send(ctx context.Context, ev Event) error {
	msg := telegramMessage{ChatID: t.chatID, Text: telegramText(ev), ParseMode: "HTML", DisableWebPagePreview: true}
	answer, err := postJSON(ctx, t.red, t.base+"/bot"+t.token+"/sendMessage", msg)
	if err != nil {
		return err
	}
	var res struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		return fmt.Errorf("the Bot API's answer is not JSON: %s", excerpt(t.red, answer))
	}
	if !res.OK {
		return fmt.Errorf("the Bot API refused the message: %s", t.red.string(res.Description))
	}
	return nil
}
