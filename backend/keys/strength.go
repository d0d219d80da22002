package keys

import (
	"fmt"
	"math"
	"strings"

	"github.com/sethvargo/go-diceware/diceware"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// MinPassphraseGuesses is the fewest guesses (zxcvbn's estimate) a new
// passphrase must need. A kit is attacked offline: at ten thousand argon2id
// guesses a second, 10^12 guesses take over three years.
const MinPassphraseGuesses = 1e12

// GeneratedWords is how many words GeneratePassphrase picks: six words of
// the EFF's large list (7776 words) are 77 bits.
const GeneratedWords = 6

// Strength is an estimate of how hard a passphrase is to guess.
type Strength struct {
	// Guesses is zxcvbn's estimate of the guesses an attacker needs.
	Guesses float64
	// Weak: fewer than MinPassphraseGuesses; Reason says what makes it
	// guessable, without quoting it.
	Weak   bool
	Reason string
}

// Strength estimates the passphrase's strength (of its NFC form, the one new
// kits are sealed with) with zxcvbn: dictionaries of common passwords,
// names and words, keyboard patterns, repeats, sequences, dates.
func (p *Passphrase) Strength() Strength {
	n := p.nfc()
	defer n.Wipe()
	r := zxcvbn.PasswordStrength(string(n.Bytes()), nil)
	s := Strength{Guesses: r.Guesses}
	if r.Guesses >= MinPassphraseGuesses {
		return s
	}
	s.Weak, s.Reason = true, weakness(r.Sequence)
	return s
}

// weakness says what made zxcvbn find a passphrase guessable: the first
// pattern it recognised, in words that never quote the passphrase.
func weakness(seq []*match.Match) string {
	for _, m := range seq {
		switch m.Pattern {
		case "repeat":
			return "it repeats characters or a group of them"
		case "sequence":
			return "it holds a sequence such as abcd or 4321"
		case "spatial":
			return "it holds a keyboard pattern such as qwerty"
		case "date", "regex":
			return "it holds a date or a year"
		case "dictionary":
			switch {
			case m.L33t:
				return "it is a common word or password with letters swapped for digits or symbols, which is guessed as easily"
			case m.Reversed:
				return "it is a common word or password written backwards, which is guessed as easily"
			}
			return "it is made of a common password, name or word and little else"
		}
	}
	return "it is too short and too predictable"
}

// checkStrength refuses a passphrase zxcvbn finds guessable.
func (p *Passphrase) checkStrength() error {
	s := p.Strength()
	if !s.Weak {
		return nil
	}
	return fmt.Errorf("%w: %s (about 10^%d guesses, 10^%d are needed because anyone who finds the kit can try passphrases offline); use several random words, such as a generated passphrase",
		ErrWeakPassphrase, s.Reason, int(math.Floor(math.Log10(max(s.Guesses, 1)))), int(math.Log10(MinPassphraseGuesses)))
}

// GeneratePassphrase returns GeneratedWords random words of the EFF's large
// word list (diceware, rolled with crypto/rand), separated by spaces (some
// of the list's words hold a hyphen: "drop-down", "t-shirt").
func GeneratePassphrase() (*Passphrase, error) {
	words, err := diceware.Generate(GeneratedWords)
	if err != nil {
		return nil, fmt.Errorf("generate a passphrase: %w", err)
	}
	return NewPassphrase([]byte(strings.Join(words, " "))), nil
}
