package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/pgsafe/pgsafe/backend/store"
)

// Notifier kinds, store's.
const (
	KindEmail     = store.NotifierEmail
	KindSlack     = store.NotifierSlack
	KindDiscord   = store.NotifierDiscord
	KindTeams     = store.NotifierTeams
	KindTelegram  = store.NotifierTelegram
	KindWebhook   = store.NotifierWebhook
	KindDesktop   = store.NotifierDesktop
	KindHeartbeat = store.NotifierHeartbeat
)

// Notifier is one notification channel.
type Notifier interface {
	// Name is the notifier's user-given name.
	Name() string
	// Kind is one of the Kind constants (or anything, for a caller's own
	// implementation).
	Kind() string
	// Wants reports whether the notifier receives events of this kind.
	Wants(eventKind string) bool
	// Send delivers ev once, without retrying. Errors name the notifier
	// and never contain a secret.
	Send(ctx context.Context, ev Event) error
}

// sender is the part of a notifier that differs by kind. ev is normalized.
type sender interface {
	send(ctx context.Context, ev Event) error
}

type builder func(p *params) sender

var builders = map[string]builder{
	KindEmail:     buildEmail,
	KindSlack:     buildSlack,
	KindDiscord:   buildDiscord,
	KindTeams:     buildTeams,
	KindTelegram:  buildTelegram,
	KindWebhook:   buildWebhook,
	KindDesktop:   buildDesktop,
	KindHeartbeat: buildHeartbeat,
}

// Kinds lists the notifier kinds New builds.
func Kinds() []string {
	return []string{KindEmail, KindSlack, KindDiscord, KindTeams, KindTelegram, KindWebhook, KindDesktop, KindHeartbeat}
}

// New builds a notifier from its stored configuration, which must carry its
// secrets' values (store.NotifierCredentials): a withheld secret is an
// error. It validates every setting and secret the kind takes (and refuses
// ones it does not) and the Events list; the error is a *ConfigError naming
// the field. New does not look at Enabled: a disabled notifier can still be
// tested.
func New(cfg store.NotifierConfig) (Notifier, error) {
	build, ok := builders[cfg.Kind]
	if !ok {
		return nil, &ConfigError{Notifier: cfg.Name, Kind: cfg.Kind, Field: "kind",
			Problem: fmt.Sprintf("unknown notifier kind %q (one of %v)", cfg.Kind, Kinds())}
	}
	p := newParams(cfg)
	for _, e := range cfg.Events {
		if !knownEvent(e) {
			p.fail("events", fmt.Sprintf("unknown event %q", e))
		}
	}
	s := build(p)
	if err := p.done(); err != nil {
		return nil, err
	}
	return &notifier{name: cfg.Name, kind: cfg.Kind, events: slices.Clone(cfg.Events), s: s, red: p.red}, nil
}

// FromConfigs builds the enabled notifiers among cfgs, for a Dispatcher.
// Disabled ones are left out; invalid ones too, and their errors are
// joined into err, so one broken notifier does not silence the others.
func FromConfigs(cfgs []store.NotifierConfig) ([]Notifier, error) {
	var out []Notifier
	var errs []error
	for _, c := range cfgs {
		if !c.Enabled {
			continue
		}
		n, err := New(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	return out, errors.Join(errs...)
}

// notifier is what New returns: the common part of every kind.
type notifier struct {
	name, kind string
	events     []string
	s          sender
	red        *redactor
}

func (n *notifier) Name() string           { return n.name }
func (n *notifier) Kind() string           { return n.kind }
func (n *notifier) Wants(kind string) bool { return wants(n.events, KindDefaultEvents(n.kind), kind) }

// KindDefaultEvents are the events a notifier of kind with an empty Events
// list receives: a heartbeat's backups started, succeeded and failed, the
// others' DefaultEvents.
func KindDefaultEvents(kind string) []string {
	if kind == KindHeartbeat {
		return slices.Clone(heartbeatEvents)
	}
	return DefaultEvents()
}

func (n *notifier) Send(ctx context.Context, ev Event) error {
	if err := n.s.send(ctx, ev.normalized()); err != nil {
		return n.red.error(fmt.Errorf("%s notifier %q: %w", n.kind, n.name, err))
	}
	return nil
}

// The notifier holds revealed secrets in its redactor: it prints as its
// kind and name only.
func (n *notifier) String() string             { return fmt.Sprintf("%s notifier %q", n.kind, n.name) }
func (n *notifier) GoString() string           { return "notify." + n.String() }
func (n *notifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, n.String()) }
func (n *notifier) LogValue() slog.Value       { return slog.StringValue(n.String()) }
