package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// zstdPayload compresses plain with the given encoder options.
func zstdPayload(t *testing.T, plain []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(plain)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// skippable returns a zstd skippable frame (RFC 8878 §3.1.2) of total length n ≥ 8.
func skippable(n int) []byte {
	f := make([]byte, n)
	binary.LittleEndian.PutUint32(f, 0x184D2A5E)
	binary.LittleEndian.PutUint32(f[4:], uint32(n-8))
	return f
}

// TestZstdStreams: what FORMAT.md says a reader accepts and rejects in a zstd payload, and
// that chunk errors still surface when the zstd stream ends exactly at a chunk boundary.
func TestZstdStreams(t *testing.T) {
	mk := testKey(t, "zstd streams")
	kr := keys.Keys{mk}
	h := Header{BackupID: BackupID{3}, KeyID: mk.ID(), Salt: [SaltSize]byte{3}, ChunkSize: tcs, Compression: CompressionZstd}
	plain := dumpLike(300_000, 4)
	frame := zstdPayload(t, plain, zstd.WithEncoderLevel(zstd.SpeedDefault)) // 8 MiB window

	// Two frames and a skippable frame padding the payload to a whole number of chunks.
	payload := append(zstdPayload(t, plain[:1000]), frame...)
	chunks := (len(payload) + 8 + tcs - 1) / tcs
	payload = append(payload, skippable(chunks*tcs-len(payload))...)
	file := encryptRaw(t, mk, h, payload)
	if len(file) != HeaderSize+chunks*enc {
		t.Fatalf("fixture is %d bytes", len(file))
	}
	want := append(append([]byte{}, plain[:1000]...), plain...)
	got, _, err := decrypt(file, kr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("several frames and a skippable frame: %v", err)
	}
	// The decoder has all the data it needs before the end; the reader still checks it.
	if _, _, err := decrypt(splice(file, []byte{0}), kr); !errors.Is(err, ErrTrailingData) {
		t.Fatalf("trailing data after a zstd stream that fills its chunks: %v", err)
	}
	if _, _, err := decrypt(file[:HeaderSize+enc], kr); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated after chunk 0: %v", err)
	}

	// Windows above 8 MiB are refused (a v1 writer never makes them).
	big := encryptRaw(t, mk, h, zstdPayload(t, plain, zstd.WithWindowSize(16<<20)))
	if _, _, err := decrypt(big, kr); err == nil || !strings.Contains(err.Error(), "not a valid zstd stream") {
		t.Fatalf("16 MiB window: %v", err)
	}
	// Authenticated garbage is a faulty writer's, reported as such.
	junk := encryptRaw(t, mk, h, []byte("this is not zstd"))
	if _, _, err := decrypt(junk, kr); err == nil || !strings.Contains(err.Error(), "writer was faulty") {
		t.Fatalf("not zstd: %v", err)
	}
	// An empty payload is an empty stream.
	if got, _, err := decrypt(encryptRaw(t, mk, h, nil), kr); err != nil || len(got) != 0 {
		t.Fatalf("empty zstd payload: %d bytes, %v", len(got), err)
	}
}

// TestZstdWriterFrame: the writer's zstd stream stays within FORMAT.md's limits.
func TestZstdWriterFrame(t *testing.T) {
	mk := testKey(t, "zstd frame")
	plain := dumpLike(1<<20, 8)
	file := encrypt(t, mk, plain, tcs, CompressionZstd)
	_, sr, err := openPayload(bytes.NewReader(file), keys.Keys{mk})
	if err != nil {
		t.Fatal(err)
	}
	var payload bytes.Buffer
	if _, err := payload.ReadFrom(sr); err != nil {
		t.Fatal(err)
	}
	var fh zstd.Header
	if err := fh.Decode(payload.Bytes()); err != nil {
		t.Fatal(err)
	}
	if fh.WindowSize > zstdMaxWindow || !fh.HasCheckSum || fh.DictionaryID != 0 {
		t.Fatalf("frame header %+v", fh)
	}
}
