package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret is a password, token or key a user typed. It never prints: String,
// GoString, Format, LogValue, MarshalJSON and MarshalText all redact it.
//
// A Secret is in one of three states: it holds a value (NewSecret; only
// configs the engine asked for with a *Credentials method, or that a caller
// built); it is withheld (IsSet true, no value: what Get and List return when
// a secret is stored); or it is empty (nothing stored). In an update, a Secret
// without a value keeps the stored one, a new value replaces it, and
// RemoveSecret() deletes it.
type Secret struct {
	// The value sits behind a pointer: fmt, when it reports a bad verb
	// (%s of a struct holding a *Struct holding a Secret), prints nested
	// values raw without calling Format; a pointer prints as an address.
	p      *secretValue
	set    bool
	remove bool
}

type secretValue struct{ v string }

// NewSecret wraps a value; an empty value is an empty Secret.
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{p: &secretValue{v}, set: true}
}

// RemoveSecret is an update that deletes the stored secret.
func RemoveSecret() Secret { return Secret{remove: true} }

// IsSet reports whether a secret is stored (or, in an update, given).
func (s Secret) IsSet() bool { return s.set }

// HasValue reports whether the Secret carries its value, not only the fact
// that one is stored.
func (s Secret) HasValue() bool { return s.p != nil && s.p.v != "" }

// Removes reports whether the Secret is a RemoveSecret update.
func (s Secret) Removes() bool { return s.remove }

// Reveal returns the value; "" when the Secret is empty or withheld. Only the
// engine calls it, to hand the value to the program that needs it.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return s.p.v
}

// withheld is the Secret as Get and List return it: whether it is set, no value.
func (s Secret) withheld() Secret { return Secret{set: s.set} }

func (s Secret) String() string {
	if s.set {
		return "[redacted]"
	}
	return "[not set]"
}

func (s Secret) GoString() string              { return "store.Secret(" + s.String() + ")" }
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(s.String()) }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(s.String()), nil }
func (s Secret) MarshalJSON() ([]byte, error)  { return json.Marshal(secretJSON{Set: s.set}) }
func (s *Secret) UnmarshalText(b []byte) error { *s = NewSecret(string(b)); return nil }

// secretJSON is a Secret as the UI sees it: whether it is set. The UI sends a
// new value as a JSON string, {"remove": true} to delete it, and anything else
// (null, {"set": true}) to keep the stored one.
type secretJSON struct {
	Set    bool `json:"set"`
	Remove bool `json:"remove,omitempty"`
}

// UnmarshalJSON accepts a string (a new value), {"remove": true}, or the
// {"set": …} view (keep what is stored).
func (s *Secret) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = Secret{}
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = NewSecret(v)
	default:
		var j secretJSON
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("a secret is a string or {\"set\": bool} or {\"remove\": true}")
		}
		*s = Secret{set: j.Set && !j.Remove, remove: j.Remove}
	}
	return nil
}
