package pg

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret is a password (of a role, or of a client key file). It never
// prints: String, GoString, Format, LogValue, MarshalText and MarshalJSON
// all redact it. Reveal returns the value for the one place that needs it.
type Secret struct {
	// Behind a pointer: fmt's bad-verb path prints nested values raw
	// without calling Format; a pointer prints as an address.
	p *string
}

// NewSecret wraps a value; "" is an empty Secret.
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{p: &v}
}

// IsSet reports whether the Secret holds a value.
func (s Secret) IsSet() bool { return s.p != nil }

// Reveal returns the value ("" when empty).
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (s Secret) String() string {
	if s.p == nil {
		return "[not set]"
	}
	return "[redacted]"
}

func (s Secret) GoString() string             { return "pg.Secret(" + s.String() + ")" }
func (s Secret) Format(f fmt.State, _ rune)   { fmt.Fprint(f, s.String()) }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(s.String()) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
