package format

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/pgsafe/pgsafe/backend/keys"
)

var errWriterClosed = errors.New("format: write to a closed backup writer")

// NewWriter writes the header of a new backup file to dst and returns a WriteCloser that
// encrypts (and, if h.Compression is CompressionZstd, first compresses) what is written to
// it. Close writes the final chunk; it must be called, and it does not close dst.
//
// h.BackupID must be set. h.KeyID may be zero (it is taken from key) or must match key.
// h.ChunkSize 0 means DefaultChunkSize. h.Salt must be zero: NewWriter draws a fresh random
// salt for every file, because a repeated salt and backup ID would repeat GCM nonces.
func NewWriter(dst io.Writer, key *keys.MasterKey, h Header) (io.WriteCloser, error) {
	if key == nil {
		return nil, errors.New("format: NewWriter needs a master key")
	}
	if h.BackupID == (BackupID{}) {
		return nil, errors.New("format: Header.BackupID must be set (see NewBackupID)")
	}
	if h.Salt != ([SaltSize]byte{}) {
		return nil, errors.New("format: Header.Salt must be zero: NewWriter draws a fresh random salt for every file")
	}
	if h.KeyID == (keys.KeyID{}) {
		h.KeyID = key.ID()
	}
	if h.ChunkSize == 0 {
		h.ChunkSize = DefaultChunkSize
	}
	if _, err := rand.Read(h.Salt[:]); err != nil {
		return nil, fmt.Errorf("generate backup salt: %w", err)
	}
	return newWriter(dst, key, h)
}

// newWriter is NewWriter with every header field given, salt included: only for test
// vectors, which need a fixed salt.
func newWriter(dst io.Writer, key *keys.MasterKey, h Header) (io.WriteCloser, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	sw, err := newStreamWriter(dst, key, &h)
	if err != nil {
		return nil, err
	}
	if h.Compression == CompressionZstd {
		return newZstdWriter(sw)
	}
	return sw, nil
}

// streamWriter writes the payload as STREAM chunks.
type streamWriter struct {
	dst   io.Writer
	aead  cipher.AEAD
	buf   []byte // plaintext of the chunk being filled; cap = chunk size
	out   []byte // sealed chunk; cap = chunk size + TagSize
	chunk uint64 // index of the chunk in buf
	err   error  // sticky; errWriterClosed after a successful Close
}

// newStreamWriter writes the header of h, with its MAC, and returns the payload writer.
func newStreamWriter(dst io.Writer, key *keys.MasterKey, h *Header) (*streamWriter, error) {
	if key.ID() != h.KeyID {
		return nil, fmt.Errorf("format: Header.KeyID %s does not match the master key's ID %s", h.KeyID, key.ID())
	}
	fk, err := deriveKeys(key, h)
	if err != nil {
		return nil, err
	}
	hdr := h.marshal()
	hdr = append(hdr, fk.headerMAC(hdr)...)
	if _, err := dst.Write(hdr); err != nil {
		return nil, fmt.Errorf("write backup header: %w", err)
	}
	return newChunkWriter(dst, fk.payload, h.ChunkSize), nil
}

func newChunkWriter(dst io.Writer, aead cipher.AEAD, chunkSize int) *streamWriter {
	return &streamWriter{
		dst:  dst,
		aead: aead,
		buf:  make([]byte, 0, chunkSize),
		out:  make([]byte, 0, chunkSize+TagSize),
	}
}

// Write buffers p into chunks. A full chunk is sealed only when more data arrives, since
// until then it may be the final one.
func (w *streamWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.seal(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		n += k
	}
	return n, nil
}

// Close seals and writes the final chunk (empty only if nothing was written at all).
func (w *streamWriter) Close() error {
	if w.err == errWriterClosed {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if err := w.seal(true); err != nil {
		return err
	}
	clear(w.buf[:cap(w.buf)])
	w.err = errWriterClosed
	return nil
}

func (w *streamWriter) seal(last bool) error {
	if !last && w.chunk == math.MaxUint64 {
		w.err = errors.New("format: backup has too many chunks")
		return w.err
	}
	w.out = w.aead.Seal(w.out[:0], nonce(w.chunk, last), w.buf, nil)
	if _, err := w.dst.Write(w.out); err != nil {
		w.err = fmt.Errorf("write backup chunk %d: %w", w.chunk, err)
		return w.err
	}
	w.chunk++
	w.buf = w.buf[:0]
	return nil
}
