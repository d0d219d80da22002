package format

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
)

func TestRoundTripSizes(t *testing.T) {
	mk := testKey(t, "round trip")
	kr := keys.Keys{mk}
	const cs = MinChunkSize
	random := make([]byte, 5*cs+123)
	rand.NewChaCha8([32]byte{1}).Read(random)
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		for _, n := range []int{0, 1, cs - 1, cs, cs + 1, 2 * cs, 3*cs + 17, len(random)} {
			for _, data := range map[string][]byte{"random": random[:n], "dump": dumpLike(n, uint64(n))} {
				file := encrypt(t, mk, data, cs, c)
				got, h, err := decrypt(file, kr)
				if err != nil {
					t.Fatalf("%s, %d bytes: %v", c, n, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s, %d bytes: round trip differs", c, n)
				}
				if h.ChunkSize != cs || h.Compression != c || h.KeyID != mk.ID() || h.Salt == ([SaltSize]byte{}) {
					t.Fatalf("header %+v", h)
				}
				if c == CompressionNone {
					// The size formula of FORMAT.md: 102 + n + 16·max(1, ⌈n/C⌉).
					chunks := max(1, (n+cs-1)/cs)
					if want := HeaderSize + n + TagSize*chunks; len(file) != want {
						t.Fatalf("%d bytes: file is %d bytes, want %d", n, len(file), want)
					}
				}
			}
		}
	}
}

// TestWriterChunking: however the data is split into Write calls, the file is the same.
func TestWriterChunking(t *testing.T) {
	mk := testKey(t, "chunking")
	h := Header{BackupID: BackupID{1}, KeyID: mk.ID(), Salt: [SaltSize]byte{2}, ChunkSize: MinChunkSize}
	data := dumpLike(3*MinChunkSize, 3)
	want := encryptWithHeader(t, mk, h, data)
	for _, step := range []int{1, 1000, MinChunkSize - 1, MinChunkSize, MinChunkSize + 1, len(data)} {
		var buf bytes.Buffer
		w, err := newWriter(&buf, mk, h)
		if err != nil {
			t.Fatal(err)
		}
		for p := data; len(p) > 0; {
			k := min(step, len(p))
			if n, err := w.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
			p = p[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("writes of %d bytes give another file", step)
		}
	}
}

// TestRoundTripLarge streams 200 MiB through writer and reader at the default chunk size,
// with and without compression, and checks that memory stays flat.
func TestRoundTripLarge(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) { roundTripLarge(t, c) })
	}
}

func roundTripLarge(t *testing.T, c Compression) {
	const size = 200 << 20
	mk := testKey(t, "large")
	id, _ := NewBackupID()
	start := time.Now()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	pr, pw := io.Pipe()
	wantSum := make(chan []byte, 1)
	var cipherLen countWriter
	go func() {
		h := sha256.New()
		w, err := NewWriter(io.MultiWriter(pw, &cipherLen), mk, Header{BackupID: id, Compression: c})
		if err == nil {
			src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{9}), size), h)
			if _, err = io.Copy(w, src); err == nil {
				err = w.Close()
			}
		}
		wantSum <- h.Sum(nil)
		pw.CloseWithError(err)
	}()
	r, hdr, err := NewReader(pr, keys.Keys{mk})
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, r)
	if err != nil {
		t.Fatalf("after %d bytes: %v", n, err)
	}
	runtime.ReadMemStats(&after)
	if n != size || !bytes.Equal(got.Sum(nil), <-wantSum) {
		t.Fatalf("read %d bytes, or content differs", n)
	}
	if hdr.ChunkSize != DefaultChunkSize || hdr.BackupID != id || hdr.Compression != c {
		t.Fatalf("header %+v", hdr)
	}
	if want := int64(HeaderSize + size + TagSize*(size/DefaultChunkSize)); c == CompressionNone && cipherLen.n != want {
		t.Fatalf("file is %d bytes, want %d", cipherLen.n, want)
	}
	// Writer and reader hold about two chunks each (plus zstd's window and buffers);
	// 200 MiB went through.
	alloc := after.TotalAlloc - before.TotalAlloc
	limit := uint64(16 << 20)
	if c == CompressionZstd {
		limit = 64 << 20
	}
	if alloc > limit {
		t.Fatalf("allocated %d MiB to stream 200 MiB: memory is not flat", alloc>>20)
	}
	t.Logf("200 MiB round trip in %v, %d KiB allocated", time.Since(start), alloc>>10)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestStreamsNonFinalChunksEarly: an authenticated non-final chunk is released before the
// rest of the file exists; the final chunk only once the end of the file is seen.
func TestStreamsNonFinalChunksEarly(t *testing.T) {
	mk := testKey(t, "early")
	data := dumpLike(2*MinChunkSize+500, 5)
	file := encrypt(t, mk, data, MinChunkSize, CompressionNone)
	secondEnd := HeaderSize + 2*(MinChunkSize+TagSize)

	pr, pw := io.Pipe()
	rest := make(chan []byte)
	go func() {
		for part := range rest {
			pw.Write(part)
		}
		pw.Close()
	}()
	rest <- file[:HeaderSize+MinChunkSize+TagSize+1] // header, chunk 0, one byte of chunk 1
	r, _, err := NewReader(pr, keys.Keys{mk})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(r, got[:MinChunkSize]); err != nil {
		t.Fatal(err)
	}
	rest <- file[HeaderSize+MinChunkSize+TagSize+1 : secondEnd+1] // chunk 1 and a byte of the final chunk
	if _, err := io.ReadFull(r, got[MinChunkSize:2*MinChunkSize]); err != nil {
		t.Fatal(err)
	}
	// The whole final chunk, but no end of file yet: Read must wait for it.
	rest <- file[secondEnd+1:]
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(r, got[2*MinChunkSize:])
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("final chunk released before the end of the file was seen (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(rest)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the end: %d, %v", n, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}

func TestNewWriterArguments(t *testing.T) {
	mk := testKey(t, "args")
	other := testKey(t, "other")
	id, err := NewBackupID()
	if err != nil {
		t.Fatal(err)
	}
	if s := id.String(); len(s) != 36 || s[14] != '4' || !strings.Contains("89ab", s[19:20]) {
		t.Fatalf("backup ID %s is not a v4 UUID", s)
	}
	for name, h := range map[string]Header{
		"no backup ID":       {},
		"caller salt":        {BackupID: id, Salt: [SaltSize]byte{1}},
		"other key ID":       {BackupID: id, KeyID: other.ID()},
		"chunk too small":    {BackupID: id, ChunkSize: MinChunkSize - 1},
		"chunk too large":    {BackupID: id, ChunkSize: MaxChunkSize + 1},
		"unknown compressor": {BackupID: id, Compression: 2},
	} {
		if _, err := NewWriter(io.Discard, mk, h); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewWriter(io.Discard, nil, Header{BackupID: id}); err == nil {
		t.Error("nil key accepted")
	}
	// Two files of the same data and backup ID still differ: the salt is fresh.
	a := encrypt(t, mk, []byte("same"), 0, CompressionNone)
	b := encrypt(t, mk, []byte("same"), 0, CompressionNone)
	if bytes.Equal(a[offSalt:offMAC], b[offSalt:offMAC]) || bytes.Equal(a[HeaderSize:], b[HeaderSize:]) {
		t.Fatal("salt or ciphertext repeated")
	}
	if h, _ := ParseHeader(bytes.NewReader(a)); h.ChunkSize != DefaultChunkSize {
		t.Fatalf("default chunk size: %d", h.ChunkSize)
	}
}

func TestWriterErrors(t *testing.T) {
	mk := testKey(t, "werr")
	id, _ := NewBackupID()
	boom := errors.New("disk full")
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		// The destination fails after the header.
		fw := &failWriter{after: HeaderSize, err: boom}
		w, err := NewWriter(fw, mk, Header{BackupID: id, ChunkSize: MinChunkSize, Compression: c})
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 4*MinChunkSize)
		rand.NewChaCha8([32]byte{}).Read(data)
		_, werr := w.Write(data)
		cerr := w.Close()
		if !errors.Is(werr, boom) && !errors.Is(cerr, boom) {
			t.Fatalf("%s: write %v, close %v: the destination's error is lost", c, werr, cerr)
		}
		if cerr == nil {
			t.Fatalf("%s: Close succeeded after a failed write", c)
		}
		// The header itself fails.
		if _, err := NewWriter(&failWriter{err: boom}, mk, Header{BackupID: id, Compression: c}); !errors.Is(err, boom) {
			t.Fatalf("%s: header write error: %v", c, err)
		}
	}
	// Write after Close fails; Close twice is fine.
	w, _ := NewWriter(io.Discard, mk, Header{BackupID: id})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Close accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

type failWriter struct {
	after int
	err   error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.after {
		n := f.after
		f.after = 0
		return n, f.err
	}
	f.after -= len(p)
	return len(p), nil
}

// TestReaderSourceError: an I/O error of the source is returned as such, with context.
func TestReaderSourceError(t *testing.T) {
	mk := testKey(t, "rerr")
	file := encrypt(t, mk, dumpLike(3*MinChunkSize, 1), MinChunkSize, CompressionZstd)
	boom := errors.New("connection reset")
	for _, cut := range []int{10, HeaderSize + 100} {
		src := io.MultiReader(bytes.NewReader(file[:cut]), &errReader{boom})
		_, _, err := decryptFrom(src, keys.Keys{mk})
		if !errors.Is(err, boom) {
			t.Fatalf("cut %d: %v", cut, err)
		}
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func decryptFrom(src io.Reader, kr keys.Keyring) ([]byte, Header, error) {
	r, h, err := NewReader(src, kr)
	if err != nil {
		return nil, h, err
	}
	b, err := io.ReadAll(r)
	return b, h, err
}

func TestParseHeaderListsWithoutKey(t *testing.T) {
	mk := testKey(t, "list")
	id, _ := NewBackupID()
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, mk, Header{BackupID: id, ChunkSize: 4 << 20, Compression: CompressionZstd})
	w.Write([]byte("data"))
	w.Close()
	h, err := ParseHeader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if h.BackupID != id || h.KeyID != mk.ID() || h.ChunkSize != 4<<20 || h.Compression != CompressionZstd {
		t.Fatalf("%+v", h)
	}
	if got := fmt.Sprint(h.Compression, CompressionNone, Compression(7)); got != "zstd none unknown(7)" {
		t.Fatal(got)
	}
}

// TestWritersShareEncoders: writers reuse the zstd encoders of writers closed
// before them (compress.go); each file still holds exactly its own data, with
// writers open at the same time, closed twice, or written after Close.
func TestWritersShareEncoders(t *testing.T) {
	mk := testKey(t, "share")
	kr := keys.Keys{mk}
	payloads := [][]byte{dumpLike(3*MinChunkSize+17, 1), []byte("a small manifest"), dumpLike(5000, 2), nil}
	for round := range 2 {
		var writers []io.WriteCloser
		var bufs []*bytes.Buffer
		for range payloads { // all open at once: some new encoders, some reused
			var buf bytes.Buffer
			id, _ := NewBackupID()
			w, err := NewWriter(&buf, mk, Header{BackupID: id, ChunkSize: MinChunkSize, Compression: CompressionZstd})
			if err != nil {
				t.Fatal(err)
			}
			writers, bufs = append(writers, w), append(bufs, &buf)
		}
		for i := len(payloads) - 1; i >= 0; i-- { // written and closed in reverse order
			if _, err := writers[i].Write(payloads[i]); err != nil {
				t.Fatal(err)
			}
			if err := writers[i].Close(); err != nil {
				t.Fatal(err)
			}
			if err := writers[i].Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := writers[i].Write([]byte("late")); err == nil {
				t.Fatal("write after Close accepted")
			}
		}
		for i, p := range payloads {
			got, _, err := decrypt(bufs[i].Bytes(), kr)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("round %d, file %d: %d bytes back (want %d), %v", round, i, len(got), len(p), err)
			}
		}
	}
}
