// Package keys owns PgSafe's key material: the master key (kept in the OS
// keychain, or in a key file the user chose), its short public ID, the keys
// derived from it with HKDF, and the recovery kit that lets a user take the
// master key to a new machine. See docs/FORMAT.md for the derivations.
package keys

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// MasterKeySize is the length of a master key in bytes.
const MasterKeySize = 32

// MasterKey is the 32-byte secret every backup key is derived from. It never
// prints: String, GoString, Format and LogValue all redact it.
type MasterKey struct {
	b [MasterKeySize]byte
}

// NewMasterKey returns a fresh random master key.
func NewMasterKey() (*MasterKey, error) {
	k := &MasterKey{}
	if _, err := rand.Read(k.b[:]); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return k, nil
}

// MasterKeyFromBytes copies b (which must be 32 bytes) into a MasterKey.
func MasterKeyFromBytes(b []byte) (*MasterKey, error) {
	if len(b) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", MasterKeySize, len(b))
	}
	k := &MasterKey{}
	copy(k.b[:], b)
	return k, nil
}

// Bytes returns a copy of the raw key. Callers must not log or store it in
// plaintext.
func (k *MasterKey) Bytes() []byte { return append([]byte(nil), k.b[:]...) }

// Wipe overwrites the key with zeros. Call it when a key loaded for one
// operation is no longer needed; a wiped key must not be used again.
func (k *MasterKey) Wipe() { clear(k.b[:]) }

// Equal reports whether two keys are the same, in constant time.
func (k *MasterKey) Equal(o *MasterKey) bool {
	return o != nil && subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// ID returns the key's short public identifier.
func (k *MasterKey) ID() KeyID {
	var id KeyID
	copy(id[:], k.mustDerive(LabelKeyID, nil, len(id)))
	return id
}

// Derive returns length bytes of HKDF-SHA256(master key, salt, info = label ‖ context).
// Labels are versioned constants (see the Label* constants) so that keys for
// different purposes never coincide.
func (k *MasterKey) Derive(label string, salt, context []byte, length int) ([]byte, error) {
	info := append([]byte(label), context...)
	out, err := hkdf.Key(sha256.New, k.b[:], salt, string(info), length)
	if err != nil {
		return nil, fmt.Errorf("derive %s key: %w", label, err)
	}
	return out, nil
}

func (k *MasterKey) mustDerive(label string, salt []byte, length int) []byte {
	out, err := k.Derive(label, salt, nil, length)
	if err != nil {
		panic(err) // only for lengths far below HKDF's limit
	}
	return out
}

// HKDF labels. Each purpose has its own; bump the version suffix to change a derivation.
const (
	LabelKeyID     = "pgsafe/v1/key-id"
	LabelBackupKey = "pgsafe/v1/backup-key\x00" // context: backup ID
	LabelRecord    = "pgsafe/v1/sealed-record"
	LabelAudit     = "pgsafe/v1/audit-mac"
	// LabelStoreRowMAC keys the settings store's per-row MACs over plaintext
	// columns, version and sealed record (docs/STORE.md, "Integrity").
	LabelStoreRowMAC = "pgsafe/v1/store-row-mac"
	// LabelStoreAnchor keys the settings store's anchor file beside the database.
	LabelStoreAnchor = "pgsafe/v1/store-anchor"
)

func (k *MasterKey) String() string                { return "MasterKey(" + k.ID().String() + ", redacted)" }
func (k *MasterKey) GoString() string              { return k.String() }
func (k *MasterKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }
func (k *MasterKey) LogValue() slog.Value          { return slog.StringValue(k.String()) }
func (k *MasterKey) MarshalJSON() ([]byte, error) {
	return nil, errors.New("a master key is never serialized to JSON")
}
func (k *MasterKey) MarshalText() ([]byte, error) {
	return nil, errors.New("a master key is never serialized as text")
}

// KeyIDSize is the length of a key ID in bytes.
const KeyIDSize = 8

// KeyID identifies a master key without revealing it: the first 8 bytes of
// HKDF-SHA256(master key, no salt, info "pgsafe/v1/key-id"), shown as 16 hex digits.
type KeyID [KeyIDSize]byte

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// ParseKeyID reads the hex form of a key ID.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != KeyIDSize {
		return id, fmt.Errorf("key ID %q: want %d hex digits", s, 2*KeyIDSize)
	}
	copy(id[:], b)
	return id, nil
}

// A Keyring finds a master key by its ID.
type Keyring interface {
	MasterKey(id KeyID) (*MasterKey, error)
}

// Keys is a Keyring over keys already loaded in memory.
type Keys []*MasterKey

// MasterKey returns the key with the given ID or a *WrongKeyError.
func (ks Keys) MasterKey(id KeyID) (*MasterKey, error) {
	var have []KeyID
	for _, k := range ks {
		if k.ID() == id {
			return k, nil
		}
		have = append(have, k.ID())
	}
	return nil, &WrongKeyError{Need: id, Have: have}
}

// WrongKeyError says which key a backup needs and which this machine has.
type WrongKeyError struct {
	Need KeyID
	Have []KeyID
}

func (e *WrongKeyError) Error() string {
	if len(e.Have) == 0 {
		return fmt.Sprintf("this backup needs key %s, and no key is available here: import that key's recovery kit", e.Need)
	}
	have := make([]string, len(e.Have))
	for i, h := range e.Have {
		have[i] = h.String()
	}
	return fmt.Sprintf("this backup needs key %s, this machine has key %s: import that key's recovery kit", e.Need, strings.Join(have, ", "))
}
