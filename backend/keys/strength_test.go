package keys

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sethvargo/go-diceware/diceware"
)

// Twelve characters are not enough: zxcvbn's estimate refuses what is
// guessed at once, and says why without quoting the passphrase.
func TestPassphraseStrength(t *testing.T) {
	for s, why := range map[string]string{
		"aaaaaaaaaaaa":         "repeats",
		"abcdefghijklmn":       "sequence",
		"qwertyuiop[]\\":       "keyboard",
		"password1234":         "common password",
		"p4ssw0rdp4ssw0rd":     "repeats",
		"P@ssw0rd19871987":     "common word or password with letters swapped",
		"drowssapdrowssapdrow": "repeats",
	} {
		err := pass(s).CheckNew()
		if !errors.Is(err, ErrWeakPassphrase) || !strings.Contains(err.Error(), why) {
			t.Errorf("CheckNew(%q) = %v, want ErrWeakPassphrase saying %q", s, err, why)
			continue
		}
		if strings.Contains(err.Error(), s) || !strings.Contains(err.Error(), "random words") {
			t.Errorf("CheckNew(%q) = %q: quotes the passphrase or suggests nothing", s, err)
		}
		if st := pass(s).Strength(); !st.Weak || st.Guesses >= MinPassphraseGuesses {
			t.Errorf("Strength(%q) = %+v", s, st)
		}
	}
	for _, s := range []string{"correct horse battery staple", "Tr0ub4dor&3 is not my password", "mein Kätzchen frißt Gänseblümchen"} {
		if err := pass(s).CheckNew(); err != nil {
			t.Errorf("CheckNew(%q) = %v", s, err)
		}
	}
}

// A generated passphrase: GeneratedWords words of the EFF large list, each
// time others, and strong.
func TestGeneratePassphrase(t *testing.T) {
	eff := map[string]bool{}
	wl := diceware.WordListEffLarge()
	for i := 0; i < 7776; i++ {
		// rolls are five dice, 11111 … 66666
		roll, n := 0, i
		for d := 0; d < 5; d++ {
			roll = roll*10 + n%6 + 1
			n /= 6
		}
		eff[wl.WordAt(roll)] = true
	}
	if len(eff) != 7776 {
		t.Fatalf("the EFF large list has %d distinct words, want 7776", len(eff))
	}
	seen := map[string]bool{}
	for range 20 {
		p, err := GeneratePassphrase()
		if err != nil {
			t.Fatal(err)
		}
		s := string(p.Bytes())
		words := strings.Split(s, " ")
		if len(words) != GeneratedWords || !regexp.MustCompile(`^[a-z-]+( [a-z-]+)*$`).MatchString(s) {
			t.Fatalf("generated %q", s)
		}
		for _, w := range words {
			if !eff[w] {
				t.Fatalf("generated %q: %q is not in the EFF large list", s, w)
			}
		}
		if err := p.CheckNew(); err != nil {
			t.Fatalf("a generated passphrase is refused: %v", err)
		}
		if seen[s] {
			t.Fatalf("generated %q twice", s)
		}
		seen[s] = true
	}
}

// New kits are sealed with the NFC form, so composed and decomposed accents
// open them alike; a kit sealed before that with the passphrase as typed
// (decomposed, say, on a Mac) still opens, typed either way.
func TestKitPassphraseNormalised(t *testing.T) {
	const composed = "Crème brûlée für Zoë, s'il vous plaît"
	decomposed := "Cre\u0300me bru\u0302le\u0301e fu\u0308r Zoe\u0308, s'il vous plai\u0302t"
	if composed == decomposed {
		t.Fatal("the two spellings must differ in bytes")
	}
	mk, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	kit, err := SealKit(mk, pass(decomposed))
	if err != nil {
		t.Fatal(err)
	}
	legacy := &Kit{KeyID: mk.ID(), Params: kit.Params}
	legacyAEAD, err := legacy.aead(pass(decomposed)) // as PgSafe sealed before normalising
	if err != nil {
		t.Fatal(err)
	}
	copy(legacy.sealed[:], legacyAEAD.Seal(nil, kitNonce[:], mk.b[:], legacy.aad()))
	for name, k := range map[string]*Kit{"new": kit, "legacy": legacy} {
		for _, typed := range []string{composed, decomposed} {
			got, err := k.Open(pass(typed))
			if err != nil || !got.Equal(mk) {
				t.Errorf("%s kit typed %+q: %v", name, typed, err)
			}
		}
		if _, err := k.Open(pass(composed + "!")); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s kit, wrong passphrase: %v", name, err)
		}
	}
	// The new kit is sealed with the NFC form itself.
	nfcOnly := *kit
	aead, err := nfcOnly.aead(pass(composed))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aead.Open(nil, kitNonce[:], kit.sealed[:], kit.aad()); err != nil {
		t.Error("the new kit is not sealed with the passphrase's NFC form")
	}
}
