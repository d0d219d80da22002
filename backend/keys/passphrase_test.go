package keys

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func pass(s string) *Passphrase { return NewPassphrase([]byte(s)) }

func TestPassphraseCheckNew(t *testing.T) {
	for s, ok := range map[string]bool{
		"":                             false,
		"qwzx":                         false,
		"elevenchars":                  false,
		"ñññññññññññ":                  false, // 11 characters, 22 bytes: counted in characters
		"correct horse battery staple": true,
		"aaaaaaaaaaaa":                 false, // 12 characters, but guessed at once
		"password1234":                 false,
		"kP9#vL2@qX7!m":                true,
	} {
		err := pass(s).CheckNew()
		if (err == nil) != ok {
			t.Errorf("CheckNew(%q) = %v", s, err)
		}
		if err != nil && (!errors.Is(err, ErrWeakPassphrase) || (s != "" && strings.Contains(err.Error(), s))) {
			t.Errorf("CheckNew(%q) error %q: want ErrWeakPassphrase, without the passphrase", s, err)
		}
	}
}

func TestPassphraseNeverPrints(t *testing.T) {
	p := pass("hunter2-hunter2")
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "p", p)
	for _, o := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p), logBuf.String()} {
		if strings.Contains(o, "hunter2") || strings.Contains(o, "68756e74") || !strings.Contains(o, "redacted") {
			t.Errorf("passphrase printed as %q", o)
		}
	}
	if _, err := p.MarshalJSON(); err == nil {
		t.Error("MarshalJSON succeeded")
	}
	b := p.Bytes()
	p.Wipe()
	if !bytes.Equal(b, make([]byte, len(b))) || p.Bytes() != nil {
		t.Error("Wipe left the passphrase in memory")
	}
	if !pass("a").Equal(pass("a")) || pass("a").Equal(pass("b")) {
		t.Error("Equal")
	}
}
