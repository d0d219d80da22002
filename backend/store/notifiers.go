package store

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
	"time"
)

// Notifier kinds.
const (
	NotifierEmail     = "email"
	NotifierSlack     = "slack"
	NotifierDiscord   = "discord"
	NotifierTeams     = "teams"
	NotifierTelegram  = "telegram"
	NotifierWebhook   = "webhook"
	NotifierDesktop   = "desktop"   // this computer's notification area
	NotifierHeartbeat = "heartbeat" // a monitoring service's ping URL (healthchecks, Uptime Kuma)
)

var notifierKinds = []string{NotifierEmail, NotifierSlack, NotifierDiscord, NotifierTeams, NotifierTelegram, NotifierWebhook, NotifierDesktop, NotifierHeartbeat}

// NotifierConfig is a notification channel. Settings and Secrets are keyed by
// names the notify package defines (e.g. "smtp_host" / "password",
// "url" / "token"); webhook URLs that embed a token belong in Secrets. Kind
// and Enabled are also plaintext columns; the rest is sealed.
type NotifierConfig struct {
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Enabled  bool              `json:"enabled"`
	Events   []string          `json:"events"` // e.g. "backup.failed"; empty: the defaults
	Settings map[string]string `json:"settings"`
	Secrets  map[string]Secret `json:"secrets"`
}

// Notifier is a stored notifier, secrets withheld.
type Notifier struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	NotifierConfig
}

var notifiers = entity[NotifierConfig]{
	table:    "notifiers",
	noun:     "notifier",
	name:     func(c *NotifierConfig) string { return c.Name },
	validate: validateNotifier,
	columns: func(c *NotifierConfig) ([]string, []any) {
		return []string{"kind", "enabled"}, []any{c.Kind, c.Enabled}
	},
}

func validateNotifier(c *NotifierConfig) error {
	if err := validName("name", c.Name); err != nil {
		return err
	}
	if !slices.Contains(notifierKinds, c.Kind) {
		return invalid("kind", "%q is not a notifier kind (%s)", c.Kind, strings.Join(notifierKinds, ", "))
	}
	for k := range c.Settings {
		if k == "" {
			return invalid("settings", "an empty setting name")
		}
	}
	for k, v := range c.Secrets {
		if k == "" {
			return invalid("secrets", "an empty secret name")
		}
		if !v.IsSet() {
			delete(c.Secrets, k) // an empty secret is no secret
		}
	}
	return nil
}

func cloneNotifier(c NotifierConfig) NotifierConfig {
	c.Settings = maps.Clone(c.Settings)
	c.Secrets = maps.Clone(c.Secrets)
	c.Events = slices.Clone(c.Events)
	return c
}

// CreateNotifier stores a new notifier and returns its id.
func (s *Store) CreateNotifier(ctx context.Context, c NotifierConfig) (int64, error) {
	c = cloneNotifier(c)
	var id int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = notifiers.create(ctx, s, tx, &c)
		return err
	})
	return id, err
}

// UpdateNotifier replaces notifier id's settings and reports the changed
// fields ("settings.smtp_host", "secrets.password"). A secret named in the
// stored config but missing from c.Secrets, or given without a value, is
// kept; RemoveSecret() deletes it.
func (s *Store) UpdateNotifier(ctx context.Context, id int64, c NotifierConfig) (Changes, error) {
	c = cloneNotifier(c)
	var changes Changes
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := notifiers.get(ctx, s, tx, id, false)
		if err != nil {
			return err
		}
		// Secrets the update leaves out are kept: add them as "keep".
		for k, v := range old.Config.Secrets {
			if _, ok := c.Secrets[k]; !ok && v.IsSet() {
				if c.Secrets == nil {
					c.Secrets = map[string]Secret{}
				}
				c.Secrets[k] = v
			}
		}
		changes, err = notifiers.update(ctx, s, tx, id, &c)
		return err
	})
	return changes, err
}

// DeleteNotifier removes notifier id.
func (s *Store) DeleteNotifier(ctx context.Context, id int64) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return notifiers.delete(ctx, s, tx, id) })
}

// Notifier returns notifier id, secrets withheld.
func (s *Store) Notifier(ctx context.Context, id int64) (Notifier, error) {
	r, err := notifiers.get(ctx, s, s.db, id, false)
	return notifierOf(r), err
}

// Notifiers lists all notifiers by id, secrets withheld.
func (s *Store) Notifiers(ctx context.Context) ([]Notifier, error) {
	rows, err := notifiers.list(ctx, s, s.db, false)
	out := make([]Notifier, len(rows))
	for i, r := range rows {
		out[i] = notifierOf(r)
	}
	return out, err
}

// NotifierCredentials returns notifier id with its secrets, for the engine.
// Never hand the result to the UI.
func (s *Store) NotifierCredentials(ctx context.Context, id int64) (NotifierConfig, error) {
	r, err := notifiers.get(ctx, s, s.db, id, true)
	return r.Config, err
}

func notifierOf(r row[NotifierConfig]) Notifier {
	return Notifier{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, NotifierConfig: r.Config}
}
