// Package seal encrypts single records of PgSafe's settings store (passwords,
// storage credentials) under a key derived from the master key, bound to where
// the record lives: a sealed value moved to another table, row or schema
// version, or sealed under another master key, does not open (docs/KEYS.md,
// "Sealed records").
//
// A sealed blob is
//
//	version (1 byte, 0x01) ‖ nonce (12 random bytes) ‖ AES-256-GCM ciphertext ‖ tag (16)
//
// with key = HKDF-SHA256(master key, no salt, "pgsafe/v1/sealed-record", 32) and
// associated data = "pgsafe/v1/sealed-record\x00" ‖ version ‖ u32(len table) ‖ table ‖
// u32(len row) ‖ row ‖ u32(schema version). Every Seal draws a fresh random
// nonce, so one record must be one blob: never seal several fields with one
// nonce. With 96-bit random nonces a key is good for 2³² seals, far more than a
// settings store makes.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// Version is the blob format version, its first byte.
const Version = 0x01

const (
	nonceSize = 12
	tagSize   = 16
	// Overhead is how many bytes a sealed blob adds to its plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// ErrOpen: a sealed record did not open. It is deliberately vague: the blob was
// damaged, sealed under another master key, or belongs to another table, row or
// schema version, and GCM cannot tell which.
var ErrOpen = errors.New("sealed record does not open: damaged, under another master key, or moved from another table, row or schema version")

// AD is where a record lives; it is authenticated with the record, not stored.
type AD struct {
	Table         string // the table (or other namespace) the record belongs to
	Row           string // the row's primary key, in a canonical text form (decimal for integers)
	SchemaVersion uint32 // the schema version the plaintext is encoded for
}

func (ad AD) String() string {
	return fmt.Sprintf("%s/%s@v%d", ad.Table, ad.Row, ad.SchemaVersion)
}

// bytes is the GCM associated data: length-prefixed, so no two ADs collide.
func (ad AD) bytes(version byte) ([]byte, error) {
	if len(ad.Table) > math.MaxUint32 || len(ad.Row) > math.MaxUint32 {
		return nil, errors.New("seal: table or row name too long")
	}
	b := make([]byte, 0, len(keys.LabelRecord)+1+1+4+len(ad.Table)+4+len(ad.Row)+4)
	b = append(b, keys.LabelRecord...)
	b = append(b, 0, version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ad.Table)))
	b = append(b, ad.Table...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ad.Row)))
	b = append(b, ad.Row...)
	return binary.BigEndian.AppendUint32(b, ad.SchemaVersion), nil
}

// A Sealer seals and opens records under one master key. It is safe for
// concurrent use and holds only the derived record key, never the master key.
type Sealer struct {
	aead  cipher.AEAD
	keyID keys.KeyID
}

// New derives the record key from mk.
func New(mk *keys.MasterKey) (*Sealer, error) {
	k, err := mk.Derive(keys.LabelRecord, nil, nil, 32)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead, keyID: mk.ID()}, nil
}

// KeyID is the ID of the master key the sealer's key comes from.
func (s *Sealer) KeyID() keys.KeyID { return s.keyID }

// Seal encrypts plaintext as the record at ad, with a fresh random nonce.
func (s *Sealer) Seal(ad AD, plaintext []byte) ([]byte, error) {
	aad, err := ad.bytes(Version)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = Version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal %s: nonce: %w", ad, err)
	}
	return s.aead.Seal(out, out[1:1+nonceSize], plaintext, aad), nil
}

// Open decrypts the record at ad. Any mismatch returns an error matching ErrOpen;
// an unknown version byte says so.
func (s *Sealer) Open(ad AD, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("open %s: %w (%d bytes is shorter than any sealed record)", ad, ErrOpen, len(sealed))
	}
	if sealed[0] != Version {
		return nil, fmt.Errorf("open %s: sealed record version %d is not supported (written by a newer PgSafe?)", ad, sealed[0])
	}
	aad, err := ad.bytes(sealed[0])
	if err != nil {
		return nil, err
	}
	pt, err := s.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", ad, ErrOpen)
	}
	return pt, nil
}
