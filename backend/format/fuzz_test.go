package format

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// fuzzSeeds are the files of testdata/fuzz/FuzzReader: small valid files of each shape and
// broken ones. Fixed salts keep them reproducible.
func fuzzSeeds(t testing.TB) map[string][]byte {
	mk, _ := keys.MasterKeyFromBytes(vectorMasterKey[:])
	h := vectorHeader(CompressionNone)
	hz := vectorHeader(CompressionZstd)
	valid := encryptWithHeader(t, mk, h, []byte("COPY public.t (a) FROM stdin;\n1\n\\.\n"))
	return map[string][]byte{
		"empty-none":      encryptWithHeader(t, mk, h, nil),
		"small-none":      valid,
		"small-zstd":      encryptWithHeader(t, mk, hz, dumpLike(2000, 7)),
		"tiny-empty":      tinyStream(t, nil),
		"tiny-full":       tinyStream(t, []byte("0123456789abcdef0123456789abcdef")),
		"tiny-short":      tinyStream(t, []byte("0123456789abcdef0123456789abcdef01234")),
		"header-only":     valid[:HeaderSize],
		"cut-header":      valid[:50],
		"cut-tag":         valid[:HeaderSize+10],
		"trailing":        splice(valid, []byte("junk")),
		"not-pgsafe":      []byte("PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01"),
		"version-2":       splice(magic[:], []byte{2}),
		"bad-chunk-size":  splice(valid[:offChunkSize], []byte{0xff, 0xff, 0xff, 0xff}, valid[offChunkSize+4:]),
		"bad-compression": splice(valid[:offCompression], []byte{9}, valid[offCompression+1:]),
	}
}

func writeFuzzSeeds(t *testing.T) {
	write := func(target, name string, data []byte) {
		dir := filepath.Join("testdata/fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return
		}
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range fuzzSeeds(t) {
		write("FuzzReader", name, data)
		if len(data) >= HeaderSize {
			data = data[:HeaderSize]
		}
		write("FuzzParseHeader", name, data)
	}
}

// tinyChunk is the chunk size of the fuzzer's payload-only mode. Real files have chunks of
// 64 KiB or more, too large for a fuzzer to mutate into many chunks.
const tinyChunk = 16

// tinyAEAD is the payload cipher of the fuzzer's payload-only mode.
func tinyAEAD(t testing.TB) cipher.AEAD {
	mk, _ := keys.MasterKeyFromBytes(vectorMasterKey[:])
	h := vectorHeader(CompressionNone)
	fk, err := deriveKeys(mk, &h)
	if err != nil {
		t.Fatal(err)
	}
	return fk.payload
}

// tinyStream encrypts plain as a bare STREAM payload with tinyChunk-byte chunks.
func tinyStream(t testing.TB, plain []byte) []byte {
	var buf bytes.Buffer
	w := newChunkWriter(&buf, tinyAEAD(t), tinyChunk)
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReader feeds arbitrary bytes to the reader three ways: as a whole file; as the
// payload after a genuine header; and as a bare payload with 16-byte chunks, so that
// mutations of the seeds' genuine chunks (cut, repeated, moved) reach the chunk logic.
// It must never panic or allocate by a hostile size, and anything that decrypts must be
// the unique encoding of its plaintext.
//
// Seeds: testdata/fuzz/FuzzReader (written from fuzzSeeds by TestGenerateVector -update).
func FuzzReader(f *testing.F) {
	mk, _ := keys.MasterKeyFromBytes(vectorMasterKey[:])
	kr := keys.Keys{mk}
	h := vectorHeader(CompressionNone)
	genuineHeader := encryptWithHeader(f, mk, h, nil)[:HeaderSize]
	aead := tinyAEAD(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range [][]byte{data, append(append([]byte{}, genuineHeader...), data...)} {
			// The whole reader, decompression included.
			if r, _, err := NewReader(bytes.NewReader(file), kr); err == nil {
				if _, err := io.Copy(io.Discard, r); err != nil {
					checkFuzzError(t, err)
				}
			} else {
				checkFuzzError(t, err)
			}
			// The encryption layer: success means the file is the canonical encoding.
			hdr, sr, err := openPayload(bytes.NewReader(file), kr)
			if err != nil {
				continue
			}
			payload, err := io.ReadAll(sr)
			if err != nil {
				checkFuzzError(t, err)
				continue
			}
			if again := encryptRaw(t, mk, hdr, payload); !bytes.Equal(again, file) {
				t.Fatalf("a file that is not the writer's encoding of its %d-byte payload decrypted", len(payload))
			}
		}
		// The bare payload with tiny chunks.
		payload, err := io.ReadAll(newStreamReader(bytes.NewReader(data), aead, tinyChunk))
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if again := tinyStream(t, payload); !bytes.Equal(again, data) {
			t.Fatalf("a payload that is not the writer's encoding of its %d bytes decrypted", len(payload))
		}
	})
}

// checkFuzzError: every error is one of the documented kinds.
func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	var wk *keys.WrongKeyError
	for _, known := range []error{ErrNotPgSafe, ErrUnsupportedVersion, ErrBadHeader, ErrHeaderTampered, ErrChunkAuth, ErrTruncated, ErrTrailingData} {
		if errors.Is(err, known) {
			return
		}
	}
	if errors.As(err, &wk) {
		return
	}
	t.Fatalf("undocumented error: %v", err)
}

// FuzzParseHeader: ParseHeader never panics, and a header it accepts re-encodes to the
// bytes it read.
// Seeds: testdata/fuzz/FuzzParseHeader.
func FuzzParseHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(bytes.NewReader(data))
		if err != nil {
			for _, known := range []error{ErrNotPgSafe, ErrUnsupportedVersion, ErrBadHeader, ErrTruncated} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("undocumented error: %v", err)
		}
		if len(data) < HeaderSize {
			t.Fatalf("accepted a %d-byte header", len(data))
		}
		if got := h.marshal(); !bytes.Equal(got, data[:offMAC]) {
			t.Fatalf("header re-encodes differently:\n got %x\nwant %x", got, data[:offMAC])
		}
	})
}
