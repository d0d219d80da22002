package format

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// Sizes and limits of format v1 (docs/FORMAT.md, "Header").
const (
	Version          = 1        // the only format version this package reads and writes
	HeaderSize       = 102      // bytes of header, including its MAC
	SaltSize         = 32       // bytes of random salt per file
	BackupIDSize     = 16       // bytes of backup ID
	TagSize          = 16       // AES-GCM tag bytes per chunk
	DefaultChunkSize = 1 << 20  // plaintext bytes per chunk unless the header says otherwise
	MinChunkSize     = 64 << 10 // smallest chunk size a v1 reader accepts
	MaxChunkSize     = 16 << 20 // largest chunk size a v1 reader accepts (bounds its memory)
)

// magic starts every PgSafe backup file, whatever its version.
var magic = [8]byte{'P', 'G', 'S', 'A', 'F', 'E', 0x1a, '\n'}

// Field offsets in the header.
const (
	offVersion     = 8
	offCompression = 9
	offChunkSize   = 10
	offBackupID    = 14
	offKeyID       = offBackupID + BackupIDSize // 30
	offSalt        = offKeyID + keys.KeyIDSize  // 38
	offMAC         = offSalt + SaltSize         // 70: bytes [0, offMAC) are MACed
)

// Compression says how the payload plaintext is encoded.
type Compression uint8

// The compression ids of v1.
const (
	CompressionNone Compression = 0 // the payload is the backup data as given
	CompressionZstd Compression = 1 // the payload is a zstd stream of the backup data
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("unknown(%d)", uint8(c))
}

// BackupID names one backup; it is stored in the header and authenticated.
type BackupID [BackupIDSize]byte

// NewBackupID returns a random backup ID (the bytes of a version-4 UUID).
func NewBackupID() (BackupID, error) {
	var id BackupID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("generate backup ID: %w", err)
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id, nil
}

// String formats the ID like a UUID: 8-4-4-4-12 lowercase hex digits.
func (id BackupID) String() string {
	h := hex.EncodeToString(id[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Header is the cleartext header of a backup file. NewReader returns it only after
// verifying its MAC; ParseHeader returns it unverified.
type Header struct {
	BackupID    BackupID
	KeyID       keys.KeyID     // master key the backup is encrypted under
	Salt        [SaltSize]byte // random per file; NewWriter draws it
	ChunkSize   int            // plaintext bytes per chunk; 0 in NewWriter means DefaultChunkSize
	Compression Compression
}

// ParseHeader reads exactly HeaderSize bytes from r and decodes the header, without a key
// and therefore WITHOUT authenticating it: use it to list or sort files, never to trust
// them. Only NewReader proves a header genuine.
func ParseHeader(r io.Reader) (Header, error) {
	_, h, err := readHeader(r)
	if err != nil {
		return Header{}, err
	}
	if err := h.validate(); err != nil {
		return Header{}, err
	}
	return h, nil
}

// readHeader reads the header bytes and checks magic and version; it decodes but does not
// validate the fields (NewReader checks the MAC first).
func readHeader(r io.Reader) (*[HeaderSize]byte, Header, error) {
	var b [HeaderSize]byte
	n, err := io.ReadFull(r, b[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, Header{}, fmt.Errorf("read backup header: %w", err)
	}
	if m := min(n, len(magic)); !bytes.Equal(b[:m], magic[:m]) {
		return nil, Header{}, fmt.Errorf("%w: it does not start with PgSafe's signature", ErrNotPgSafe)
	}
	if n > offVersion && b[offVersion] != Version {
		why := "a newer PgSafe wrote this file, upgrade to read it"
		if b[offVersion] < Version {
			why = "no PgSafe writes that version, so the file is damaged"
		}
		return nil, Header{}, fmt.Errorf("%w %d: this PgSafe reads version %d; %s", ErrUnsupportedVersion, b[offVersion], Version, why)
	}
	if n < HeaderSize {
		if n == 0 {
			return nil, Header{}, fmt.Errorf("%w: the file is empty: the upload or copy was incomplete", ErrTruncated)
		}
		return nil, Header{}, fmt.Errorf("%w inside its header (%d of %d bytes): the upload or copy was incomplete", ErrTruncated, n, HeaderSize)
	}
	var h Header
	h.Compression = Compression(b[offCompression])
	h.ChunkSize = int(binary.BigEndian.Uint32(b[offChunkSize:]))
	copy(h.BackupID[:], b[offBackupID:])
	copy(h.KeyID[:], b[offKeyID:])
	copy(h.Salt[:], b[offSalt:])
	return &b, h, nil
}

// validate checks the fields whose values v1 restricts.
func (h *Header) validate() error {
	if h.ChunkSize < MinChunkSize || h.ChunkSize > MaxChunkSize {
		return fmt.Errorf("%w: chunk size %d is outside the allowed %d–%d bytes", ErrBadHeader, h.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if h.Compression != CompressionNone && h.Compression != CompressionZstd {
		return fmt.Errorf("%w: unknown compression id %d", ErrBadHeader, uint8(h.Compression))
	}
	return nil
}

// marshal encodes the MACed part of the header, bytes [0, offMAC).
func (h *Header) marshal() []byte {
	b := make([]byte, offMAC, HeaderSize)
	copy(b, magic[:])
	b[offVersion] = Version
	b[offCompression] = byte(h.Compression)
	binary.BigEndian.PutUint32(b[offChunkSize:], uint32(h.ChunkSize))
	copy(b[offBackupID:], h.BackupID[:])
	copy(b[offKeyID:], h.KeyID[:])
	copy(b[offSalt:], h.Salt[:])
	return b
}
