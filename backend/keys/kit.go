package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id parameters that turn a passphrase into the key that
// wraps a master key in a recovery kit or protected key file (docs/KEYS.md).
type KDFParams struct {
	Time      uint8  // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

func (p KDFParams) String() string {
	return fmt.Sprintf("argon2id t=%d m=%d KiB p=%d", p.Time, p.MemoryKiB, p.Threads)
}

// ProductionKDF are the parameters every new kit is written with: time=3,
// memory=64 MiB, threads=4 (OWASP's and RFC 9106's second recommended profile,
// sized for a desktop: about a quarter of a second on two cores). They are
// stored in each kit, so raising them later keeps old kits readable.
var ProductionKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// kdfParams is what new kits use: ProductionKDF, except in this package's tests,
// which lower it to keep them fast.
var kdfParams = ProductionKDF

// Bounds on the parameters a kit may ask for, so that a hostile or damaged kit
// cannot make PgSafe allocate gigabytes or spin for minutes.
const (
	maxKDFTime      = 32
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFThreads   = 64
)

func (p KDFParams) check() error {
	if p.Time < 1 || p.Time > maxKDFTime || p.Threads < 1 || p.Threads > maxKDFThreads ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB {
		return fmt.Errorf("%w: unsupported key derivation parameters (%s)", ErrKitDamaged, p)
	}
	return nil
}

// Binary layout of a v1 kit (80 bytes), see docs/KEYS.md.
const (
	kitVersion1   = 0x01
	kdfArgon2id   = 0x01
	kitSaltSize   = 16
	kitHeaderSize = 1 + 1 + 1 + 4 + 1 + kitSaltSize + KeyIDSize // 32
	kitSealedSize = MasterKeySize + 16                          // 48
	kitSize       = kitHeaderSize + kitSealedSize               // 80
	// kitAADLabel is prefixed to the header as GCM associated data, so a kit's
	// ciphertext cannot be mistaken for any other PgSafe ciphertext.
	kitAADLabel = "PGSAFE-KIT-1"
)

// A Kit is a master key wrapped with a passphrase: the content of a recovery kit
// and of a protected key file (the two are the same format). Its key ID and KDF
// parameters are readable without the passphrase.
type Kit struct {
	KeyID  KeyID
	Params KDFParams
	salt   [kitSaltSize]byte
	sealed [kitSealedSize]byte
}

// SealKit wraps mk with pass: argon2id(pass, fresh random salt) → AES-256-GCM key,
// which seals the master key with the kit's header as associated data.
func SealKit(mk *MasterKey, pass *Passphrase) (*Kit, error) {
	if err := pass.CheckNew(); err != nil {
		return nil, err
	}
	k := &Kit{KeyID: mk.ID(), Params: kdfParams}
	if _, err := rand.Read(k.salt[:]); err != nil {
		return nil, fmt.Errorf("recovery kit salt: %w", err)
	}
	// Sealed with the NFC form, so that the same text typed where accents
	// are composed differently (macOS, Windows, Linux) opens the kit.
	nfc := pass.nfc()
	defer nfc.Wipe()
	aead, err := k.aead(nfc)
	if err != nil {
		return nil, err
	}
	copy(k.sealed[:], aead.Seal(nil, kitNonce[:], mk.b[:], k.aad()))
	return k, nil
}

// Open unwraps the master key. A wrong passphrase returns ErrWrongPassphrase.
// The passphrase is tried as typed (kits sealed before PgSafe normalised
// passphrases), then in Unicode NFC (new kits) and NFD, each form once.
func (k *Kit) Open(pass *Passphrase) (*MasterKey, error) {
	if pass == nil {
		return nil, errors.New("no passphrase given")
	}
	var raw []byte
	for _, v := range pass.variants() {
		if raw == nil {
			aead, err := k.aead(v)
			if err != nil {
				v.Wipe()
				return nil, err
			}
			raw, _ = aead.Open(nil, kitNonce[:], k.sealed[:], k.aad())
		}
		v.Wipe()
	}
	if raw == nil {
		return nil, fmt.Errorf("%w for the key %s", ErrWrongPassphrase, k.KeyID)
	}
	defer clear(raw)
	mk, err := MasterKeyFromBytes(raw)
	if err != nil {
		return nil, err
	}
	if mk.ID() != k.KeyID { // the key ID is authenticated; this is a writer's bug
		mk.Wipe()
		return nil, fmt.Errorf("%w: it holds a key with ID %s but says %s", ErrKitDamaged, mk.ID(), k.KeyID)
	}
	return mk, nil
}

// kitNonce is all zeros: every kit has its own key (argon2id over a fresh random
// salt) that seals exactly one message, so the nonce never repeats under a key
// (the same argument as age's scrypt recipient).
var kitNonce [12]byte

func (k *Kit) aead(pass *Passphrase) (cipher.AEAD, error) {
	if err := k.Params.check(); err != nil {
		return nil, err
	}
	if pass == nil {
		return nil, errors.New("no passphrase given")
	}
	wrapKey := argon2.IDKey(pass.Bytes(), k.salt[:], uint32(k.Params.Time), k.Params.MemoryKiB, k.Params.Threads, 32)
	defer clear(wrapKey)
	block, err := aes.NewCipher(wrapKey)
	if err != nil {
		return nil, fmt.Errorf("recovery kit cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func (k *Kit) header() []byte {
	b := make([]byte, 0, kitHeaderSize)
	b = append(b, kitVersion1, kdfArgon2id, k.Params.Time)
	b = binary.BigEndian.AppendUint32(b, k.Params.MemoryKiB)
	b = append(b, k.Params.Threads)
	b = append(b, k.salt[:]...)
	return append(b, k.KeyID[:]...)
}

func (k *Kit) aad() []byte { return append([]byte(kitAADLabel), k.header()...) }

// MarshalBinary returns the kit's 80 bytes.
func (k *Kit) MarshalBinary() ([]byte, error) {
	return append(k.header(), k.sealed[:]...), nil
}

func kitFromBinary(b []byte) (*Kit, error) {
	if len(b) < 1 || b[0] != kitVersion1 {
		if len(b) >= 1 && b[0] > kitVersion1 {
			return nil, fmt.Errorf("%w: it was written by a newer PgSafe (kit version %d)", ErrKitDamaged, b[0])
		}
		return nil, fmt.Errorf("%w: not a recovery kit", ErrKitDamaged)
	}
	if len(b) != kitSize {
		return nil, fmt.Errorf("%w: %d bytes of key data, want %d", ErrKitDamaged, len(b), kitSize)
	}
	if b[1] != kdfArgon2id {
		return nil, fmt.Errorf("%w: unknown key derivation %d", ErrKitDamaged, b[1])
	}
	k := &Kit{Params: KDFParams{Time: b[2], MemoryKiB: binary.BigEndian.Uint32(b[3:7]), Threads: b[7]}}
	copy(k.salt[:], b[8:24])
	copy(k.KeyID[:], b[24:32])
	copy(k.sealed[:], b[32:])
	if err := k.Params.check(); err != nil {
		return nil, err
	}
	return k, nil
}
