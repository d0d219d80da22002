package seal

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

func newSealer(t *testing.T) (*Sealer, *keys.MasterKey) {
	t.Helper()
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(mk)
	if err != nil {
		t.Fatal(err)
	}
	return s, mk
}

var ad = AD{Table: "storages", Row: "42", SchemaVersion: 3}

func TestRoundTrip(t *testing.T) {
	s, mk := newSealer(t)
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret "), 1000)} {
		blob, err := s.Seal(ad, pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) != len(pt)+Overhead || blob[0] != Version {
			t.Fatalf("blob of %d bytes for %d plaintext bytes, version %d", len(blob), len(pt), blob[0])
		}
		if len(pt) > 6 && bytes.Contains(blob, pt[:7]) {
			t.Fatal("plaintext visible in the blob")
		}
		got, err := s.Open(ad, blob)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v", got, err)
		}
		// A second sealer from the same master key (another process) opens it too.
		s2, _ := New(mk)
		if got, err := s2.Open(ad, blob); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("second sealer: %q, %v", got, err)
		}
	}
	if s.KeyID() != mk.ID() {
		t.Fatal("KeyID")
	}
}

func TestFreshNonceEverySeal(t *testing.T) {
	s, _ := newSealer(t)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		blob, err := s.Seal(ad, []byte("same"))
		if err != nil {
			t.Fatal(err)
		}
		n := string(blob[1 : 1+nonceSize])
		if seen[n] {
			t.Fatal("nonce reused")
		}
		seen[n] = true
	}
}

func TestOpenFailsWhenMovedOrTampered(t *testing.T) {
	s, _ := newSealer(t)
	blob, err := s.Seal(ad, []byte("postgres://u:pw@h/db"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newSealer(t)
	cases := map[string]func() ([]byte, error){
		"other table":          func() ([]byte, error) { return s.Open(AD{"databases", ad.Row, ad.SchemaVersion}, blob) },
		"other row":            func() ([]byte, error) { return s.Open(AD{ad.Table, "43", ad.SchemaVersion}, blob) },
		"other schema version": func() ([]byte, error) { return s.Open(AD{ad.Table, ad.Row, 4}, blob) },
		// Length prefixes: "storages"+"42" must differ from "storages4"+"2".
		"shifted boundary": func() ([]byte, error) { return s.Open(AD{"storages4", "2", ad.SchemaVersion}, blob) },
		"other master key": func() ([]byte, error) { return other.Open(ad, blob) },
		"truncated":        func() ([]byte, error) { return s.Open(ad, blob[:len(blob)-1]) },
		"too short":        func() ([]byte, error) { return s.Open(ad, blob[:Overhead-1]) },
	}
	for i := range blob {
		if i == 0 {
			continue // version byte: its own error, below
		}
		i := i
		cases[fmt.Sprintf("flipped byte %d", i)] = func() ([]byte, error) {
			b := bytes.Clone(blob)
			b[i] ^= 0x01
			return s.Open(ad, b)
		}
	}
	for name, open := range cases {
		pt, err := open()
		if !errors.Is(err, ErrOpen) || pt != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, pt, err)
		}
	}
	b := bytes.Clone(blob)
	b[0] = 2
	if _, err := s.Open(ad, b); err == nil || errors.Is(err, ErrOpen) {
		t.Errorf("version 2: %v, want an unsupported-version error", err)
	}
}

// TestKnownAnswer pins the derivation and the associated data: a blob sealed
// today must open in every later version.
func TestKnownAnswer(t *testing.T) {
	mk, _ := keys.MasterKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	s, _ := New(mk)
	blob, _ := s.Seal(ad, []byte("known"))
	// Rebuild what Open checks from the documented layout, independently.
	k, _ := mk.Derive("pgsafe/v1/sealed-record", nil, nil, 32)
	wantAD := []byte("pgsafe/v1/sealed-record\x00\x01" + "\x00\x00\x00\x08storages" + "\x00\x00\x00\x0242" + "\x00\x00\x00\x03")
	got, err := openWith(k, blob, wantAD)
	if err != nil || string(got) != "known" {
		t.Fatalf("documented layout does not open the blob: %q, %v", got, err)
	}
}
