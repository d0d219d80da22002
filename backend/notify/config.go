package notify

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pgsafe/pgsafe/backend/store"
)

// ConfigError is a notifier configuration New refuses. Field is the dotted
// name store.Changes uses ("settings.host", "secrets.webhook_url", "events",
// "kind"), so a form can point at it.
type ConfigError struct {
	Notifier string // the notifier's name
	Kind     string
	Field    string
	Problem  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("notifier %q (%s): %s: %s", e.Notifier, e.Kind, e.Field, e.Problem)
}

// params reads a config's settings and secrets for a builder, remembering
// the first problem and which keys were read (the rest are unknown).
type params struct {
	cfg      store.NotifierConfig
	err      *ConfigError
	settings map[string]bool // keys the kind takes
	secrets  map[string]bool
	red      *redactor
}

func newParams(cfg store.NotifierConfig) *params {
	return &params{cfg: cfg, settings: map[string]bool{}, secrets: map[string]bool{}, red: &redactor{}}
}

func (p *params) fail(field, problem string) {
	if p.err == nil {
		p.err = &ConfigError{Notifier: p.cfg.Name, Kind: p.cfg.Kind, Field: field, Problem: problem}
	}
}

// setting returns a setting, trimmed; "" when unset. what describes it for
// the "missing" error when required.
func (p *params) setting(key string, required bool, what string) string {
	p.settings[key] = true
	v := strings.TrimSpace(p.cfg.Settings[key])
	if v == "" && required {
		p.fail("settings."+key, "missing ("+what+")")
	}
	return v
}

// rawSetting is setting without trimming (templates, header lines).
func (p *params) rawSetting(key string) string {
	p.settings[key] = true
	return p.cfg.Settings[key]
}

// intSetting parses a setting as an integer in [lo, hi]; def when unset.
func (p *params) intSetting(key string, def, lo, hi int) int {
	v := p.setting(key, false, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail("settings."+key, fmt.Sprintf("%q is not a number from %d to %d", v, lo, hi))
		return def
	}
	return n
}

// secret returns a secret's value, registered for redaction; "" when unset.
func (p *params) secret(key string, required bool, what string) string {
	p.secrets[key] = true
	s, ok := p.cfg.Secrets[key]
	switch {
	case ok && s.IsSet() && !s.HasValue():
		p.fail("secrets."+key, "stored but withheld here: build notifiers from store.NotifierCredentials")
		return ""
	case s.Reveal() == "" && required:
		p.fail("secrets."+key, "missing ("+what+")")
		return ""
	}
	v := s.Reveal()
	p.red.add(v)
	return v
}

// done reports the first problem, or a setting or secret the kind does not
// take.
func (p *params) done() error {
	if p.err == nil {
		for _, k := range slices.Sorted(maps.Keys(p.cfg.Settings)) {
			if !p.settings[k] {
				p.fail("settings."+k, fmt.Sprintf("not a setting of a %s notifier (%s)", p.cfg.Kind, keyList(p.settings)))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(p.cfg.Secrets)) {
			if !p.secrets[k] && p.cfg.Secrets[k].IsSet() {
				p.fail("secrets."+k, fmt.Sprintf("not a secret of a %s notifier (%s)", p.cfg.Kind, keyList(p.secrets)))
			}
		}
	}
	if p.err != nil {
		return p.err
	}
	return nil
}

func keyList(m map[string]bool) string {
	if len(m) == 0 {
		return "it takes none"
	}
	return "it takes " + strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
