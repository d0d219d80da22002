package keys

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestKeyIDStableAndDistinct(t *testing.T) {
	a, _ := MasterKeyFromBytes(bytes.Repeat([]byte{1}, 32))
	b, _ := MasterKeyFromBytes(bytes.Repeat([]byte{2}, 32))
	if a.ID() != a.ID() || a.ID() == b.ID() {
		t.Fatalf("IDs: a=%s a=%s b=%s", a.ID(), a.ID(), b.ID())
	}
	id, err := ParseKeyID(a.ID().String())
	if err != nil || id != a.ID() {
		t.Fatalf("ParseKeyID round trip: %v %v", id, err)
	}
	if _, err := ParseKeyID("zz"); err == nil {
		t.Fatal("ParseKeyID accepted garbage")
	}
}

func TestMasterKeyNeverPrints(t *testing.T) {
	raw := bytes.Repeat([]byte{0xAB}, 32)
	k, _ := MasterKeyFromBytes(raw)
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "key", k)
	outs := []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %x %s", k, k, k, k, k), logBuf.String()}
	for _, o := range outs {
		if strings.Contains(strings.ToLower(o), "abab") || !strings.Contains(o, "redacted") {
			t.Errorf("key printed as %q", o)
		}
	}
}

func TestDeriveSeparatesLabels(t *testing.T) {
	k, _ := NewMasterKey()
	a, _ := k.Derive(LabelRecord, nil, nil, 32)
	b, _ := k.Derive(LabelAudit, nil, nil, 32)
	c, _ := k.Derive(LabelRecord, nil, nil, 32)
	if bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatal("derivation not label-separated or not deterministic")
	}
}

func TestKeysWrongKeyError(t *testing.T) {
	a, _ := NewMasterKey()
	b, _ := NewMasterKey()
	got, err := Keys{a}.MasterKey(a.ID())
	if err != nil || !got.Equal(a) {
		t.Fatalf("lookup of present key: %v", err)
	}
	_, err = Keys{a}.MasterKey(b.ID())
	var wk *WrongKeyError
	if !errors.As(err, &wk) {
		t.Fatalf("err = %v, want WrongKeyError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, b.ID().String()) || !strings.Contains(msg, a.ID().String()) {
		t.Fatalf("message %q must name both key IDs", msg)
	}
}
