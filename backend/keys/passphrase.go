package keys

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MinPassphraseLen is the shortest passphrase (in characters) accepted for a new
// recovery kit or protected key file. A kit can be attacked offline by anyone who
// finds it, so its passphrase is its only protection.
const MinPassphraseLen = 12

// Passphrase is a secret typed by the user. It never prints (String, GoString,
// Format and LogValue redact it); Wipe zeroes it once it has been used.
type Passphrase struct {
	b []byte
}

// NewPassphrase takes ownership of b (the caller must not keep using it).
func NewPassphrase(b []byte) *Passphrase { return &Passphrase{b: b} }

// Bytes returns the passphrase bytes themselves (not a copy): for the KDF only.
func (p *Passphrase) Bytes() []byte { return p.b }

// Len is the length in characters.
func (p *Passphrase) Len() int { return utf8.RuneCount(p.b) }

// Wipe zeroes the passphrase.
func (p *Passphrase) Wipe() {
	if p != nil {
		clear(p.b)
		p.b = nil
	}
}

// CheckNew refuses passphrases that are too weak for a new kit or key file:
// shorter than MinPassphraseLen characters, or fewer than
// MinPassphraseGuesses guesses by zxcvbn's estimate (see Strength).
func (p *Passphrase) CheckNew() error {
	if p == nil || len(p.b) == 0 {
		return fmt.Errorf("%w: the passphrase is empty; choose one of at least %d characters", ErrWeakPassphrase, MinPassphraseLen)
	}
	if !utf8.Valid(p.b) {
		return errors.New("the passphrase is not valid UTF-8 text")
	}
	if n := p.Len(); n < MinPassphraseLen {
		return fmt.Errorf("%w: %d characters, at least %d are needed (anyone who finds the kit can try passphrases offline)", ErrWeakPassphrase, n, MinPassphraseLen)
	}
	return p.checkStrength()
}

// nfc returns the passphrase in Unicode normal form C (a new Passphrase, to
// be wiped): new kits are sealed with it, so the same text typed on systems
// that compose accents differently opens them.
func (p *Passphrase) nfc() *Passphrase {
	if p == nil {
		return nil
	}
	return NewPassphrase(norm.NFC.Append(nil, p.b...)) // Append copies; Bytes may return p.b itself
}

// variants are the forms of the passphrase a kit may have been sealed with,
// each once: as typed (kits from before NFC normalisation), NFC (new kits)
// and NFD (an older kit typed with decomposed accents, opened where they
// are composed). Wipe each after use.
func (p *Passphrase) variants() []*Passphrase {
	out := []*Passphrase{NewPassphrase(bytes.Clone(p.b))}
	for _, f := range []norm.Form{norm.NFC, norm.NFD} {
		b := f.Append(nil, p.b...)
		if slices.ContainsFunc(out, func(o *Passphrase) bool { return bytes.Equal(o.b, b) }) {
			clear(b)
			continue
		}
		out = append(out, NewPassphrase(b))
	}
	return out
}

// Equal reports whether two passphrases are the same (for "type it again").
func (p *Passphrase) Equal(o *Passphrase) bool {
	return p != nil && o != nil && subtle.ConstantTimeCompare(p.b, o.b) == 1
}

func (p *Passphrase) String() string                { return "Passphrase(redacted)" }
func (p *Passphrase) GoString() string              { return p.String() }
func (p *Passphrase) Format(f fmt.State, verb rune) { fmt.Fprint(f, p.String()) }
func (p *Passphrase) LogValue() slog.Value          { return slog.StringValue(p.String()) }
func (p *Passphrase) MarshalJSON() ([]byte, error) {
	return nil, errors.New("a passphrase is never serialized")
}
func (p *Passphrase) MarshalText() ([]byte, error) {
	return nil, errors.New("a passphrase is never serialized")
}
