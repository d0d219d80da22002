package format

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// HKDF labels of the sub-keys derived from a backup key (docs/FORMAT.md, "Sub-keys").
const (
	labelPayloadKey   = "pgsafe/v1/payload-key"
	labelHeaderMACKey = "pgsafe/v1/header-mac-key"
)

// fileKeys are the keys of one backup file.
type fileKeys struct {
	payload cipher.AEAD
	macKey  []byte
}

// deriveKeys derives the backup key from the master key, the salt and the backup ID, and
// from it the payload key and the header MAC key.
func deriveKeys(mk *keys.MasterKey, h *Header) (*fileKeys, error) {
	backupKey, err := mk.Derive(keys.LabelBackupKey, h.Salt[:], h.BackupID[:], 32)
	if err != nil {
		return nil, err
	}
	payloadKey, err := hkdf.Key(sha256.New, backupKey, nil, labelPayloadKey, 32)
	if err != nil {
		return nil, fmt.Errorf("derive payload key: %w", err)
	}
	macKey, err := hkdf.Key(sha256.New, backupKey, nil, labelHeaderMACKey, 32)
	if err != nil {
		return nil, fmt.Errorf("derive header MAC key: %w", err)
	}
	block, err := aes.NewCipher(payloadKey)
	if err != nil {
		return nil, fmt.Errorf("payload cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("payload cipher: %w", err)
	}
	return &fileKeys{payload: aead, macKey: macKey}, nil
}

// headerMAC returns HMAC-SHA256(header MAC key, header[0:70]).
func (k *fileKeys) headerMAC(fields []byte) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write(fields[:offMAC])
	return m.Sum(nil)
}

// nonce returns the STREAM nonce of chunk i: 11-byte big-endian counter ‖ last flag.
func nonce(i uint64, last bool) []byte {
	var n [12]byte // n[0:3], the counter's top 24 bits, stay 0: a uint64 never reaches them
	binary.BigEndian.PutUint64(n[3:11], i)
	if last {
		n[11] = 1
	}
	return n[:]
}
