package format

import (
	"crypto/cipher"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// NewReader reads and authenticates the header of a backup file from src, finds its master
// key in kr, and returns a Reader of the backup data (decompressed if the header says so)
// together with the authenticated header.
//
// A wrong key is the keyring's error (keys.WrongKeyError names the key needed and the keys
// available). Header problems are ErrNotPgSafe, ErrUnsupportedVersion, ErrTruncated,
// ErrHeaderTampered or ErrBadHeader; payload problems come from Read as *ChunkError.
//
// The reader returns each chunk only after it authenticated, and the final chunk only
// after it has seen the end of src: data read before an error is genuine, but the backup
// is complete only when Read returns io.EOF. Callers fetching a known backup should check
// the returned header's BackupID.
func NewReader(src io.Reader, kr keys.Keyring) (io.Reader, Header, error) {
	h, sr, err := openPayload(src, kr)
	if err != nil {
		return nil, Header{}, err
	}
	if h.Compression == CompressionZstd {
		zr, err := newZstdReader(sr)
		if err != nil {
			return nil, Header{}, err
		}
		return zr, h, nil
	}
	return sr, h, nil
}

// openPayload authenticates the header and returns a reader of the payload plaintext,
// before decompression.
func openPayload(src io.Reader, kr keys.Keyring) (Header, *streamReader, error) {
	if kr == nil {
		return Header{}, nil, errors.New("format: NewReader needs a keyring")
	}
	raw, h, err := readHeader(src)
	if err != nil {
		return Header{}, nil, err
	}
	mk, err := kr.MasterKey(h.KeyID)
	if err != nil {
		return Header{}, nil, err
	}
	fk, err := deriveKeys(mk, &h)
	if err != nil {
		return Header{}, nil, err
	}
	if !hmac.Equal(fk.headerMAC(raw[:offMAC]), raw[offMAC:]) {
		return Header{}, nil, fmt.Errorf("%w: the header of this backup was modified or damaged", ErrHeaderTampered)
	}
	// Only now, with the header genuine, are its sizes trusted enough to allocate by.
	if err := h.validate(); err != nil {
		return Header{}, nil, fmt.Errorf("%w (the header authenticates, so the writer was faulty)", err)
	}
	return h, newStreamReader(src, fk.payload, h.ChunkSize), nil
}

// streamReader decrypts STREAM chunks, keeping one byte of look-ahead to know whether a
// chunk is the final one.
type streamReader struct {
	src   io.Reader
	aead  cipher.AEAD
	size  int    // encrypted chunk size: chunk size + TagSize
	buf   []byte // size+1 bytes: a chunk and one byte of look-ahead
	ahead bool   // buf[0] holds the look-ahead byte from the previous read
	out   []byte // plaintext of the current chunk; cap = chunk size
	plain []byte // unread part of out
	chunk uint64 // index of the next chunk to read
	final bool   // the final chunk has been read
	err   error  // sticky; io.EOF after the final chunk
}

func newStreamReader(src io.Reader, aead cipher.AEAD, chunkSize int) *streamReader {
	return &streamReader{
		src:  src,
		aead: aead,
		size: chunkSize + TagSize,
		buf:  make([]byte, chunkSize+TagSize+1),
		out:  make([]byte, 0, chunkSize),
	}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next reads, authenticates and decrypts one chunk into r.plain, or says why not.
func (r *streamReader) next() error {
	if r.final {
		return io.EOF
	}
	i := r.chunk
	off := int64(HeaderSize) + int64(i)*int64(r.size)
	start := 0
	if r.ahead {
		start = 1
	}
	n, err := io.ReadFull(r.src, r.buf[start:])
	m := start + n
	more := err == nil // the whole chunk and a look-ahead byte arrived
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("read backup chunk %d (offset %d): %w", i, off, err)
	}

	if more {
		ct := r.buf[:r.size]
		pt, err := r.open(ct, i, false)
		if err != nil {
			if _, err := r.open(ct, i, true); err == nil {
				return &ChunkError{Chunk: i, Offset: off + int64(r.size), Kind: ChunkTrailingData}
			}
			return &ChunkError{Chunk: i, Offset: off, Kind: ChunkAuthFailed}
		}
		if i == math.MaxUint64 {
			return &ChunkError{Chunk: i, Offset: off, Kind: ChunkAuthFailed}
		}
		r.buf[0] = r.buf[r.size]
		r.ahead = true
		r.plain = pt
		r.chunk++
		return nil
	}

	// End of file after m bytes of chunk i: it must be the final chunk.
	r.ahead = false
	switch {
	case m == 0: // only for chunk 0: chunk i > 0 has the look-ahead byte
		return &ChunkError{Chunk: i, Offset: off, Kind: ChunkTruncatedInside}
	case m < TagSize:
		return &ChunkError{Chunk: i, Offset: off, Kind: ChunkTruncatedInside, Size: m}
	}
	ct := r.buf[:m]
	pt, err := r.open(ct, i, true)
	if err == nil {
		if len(pt) == 0 && i > 0 {
			return &ChunkError{Chunk: i, Offset: off, Kind: ChunkEmptyFinal}
		}
		r.plain = pt
		r.final = true
		return nil
	}
	if m < r.size {
		return &ChunkError{Chunk: i, Offset: off, Kind: ChunkCutOrDamaged, Size: m}
	}
	if _, err := r.open(ct, i, false); err == nil {
		return &ChunkError{Chunk: i, Offset: off + int64(r.size), Kind: ChunkTruncatedAfter}
	}
	return &ChunkError{Chunk: i, Offset: off, Kind: ChunkAuthFailed}
}

// open authenticates and decrypts chunk i into r.out. On failure nothing of it is kept.
func (r *streamReader) open(ct []byte, i uint64, last bool) ([]byte, error) {
	return r.aead.Open(r.out[:0], nonce(i, last), ct, nil)
}
