package format

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

const (
	tcs = MinChunkSize      // chunk size of the tamper files
	enc = tcs + TagSize     // encrypted chunk size
	hs  = int64(HeaderSize) // header size, as an offset
)

// chunkAt returns the file offset of chunk i.
func chunkAt(i int) int64 { return hs + int64(i)*enc }

// tamperFixture: a 4-chunk file whose final chunk is short, and one whose final chunk is
// full-size, both uncompressed so that chunks map to plaintext ranges.
type tamperFixture struct {
	mk          *keys.MasterKey
	kr          keys.Keyring
	plainShort  []byte // 3.5 chunks
	short       []byte
	plainFull   []byte // exactly 3 chunks
	full        []byte
	otherBackup []byte // same key and plaintext as short, another salt and backup ID
}

func newTamperFixture(t *testing.T) *tamperFixture {
	mk := testKey(t, "tamper")
	f := &tamperFixture{mk: mk, kr: keys.Keys{mk}}
	f.plainShort = make([]byte, 3*tcs+tcs/2)
	rand.NewChaCha8([32]byte{7}).Read(f.plainShort)
	f.plainFull = f.plainShort[:3*tcs]
	f.short = encrypt(t, mk, f.plainShort, tcs, CompressionNone)
	f.full = encrypt(t, mk, f.plainFull, tcs, CompressionNone)
	f.otherBackup = encrypt(t, mk, f.plainShort, tcs, CompressionNone)
	return f
}

// splice builds a file from pieces.
func splice(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func chunk(file []byte, i int) []byte {
	return file[chunkAt(i):min(chunkAt(i+1), int64(len(file)))]
}

// wantChunkErr checks that err is a *ChunkError of the kind, chunk and offset given, that
// it matches exactly the sentinels given, and that its message names chunk and offset.
func wantChunkErr(t *testing.T, name string, err error, kind ChunkErrorKind, idx uint64, off int64, sentinels ...error) {
	t.Helper()
	var ce *ChunkError
	if !errors.As(err, &ce) {
		t.Errorf("%s: err = %v, want a ChunkError", name, err)
		return
	}
	if ce.Kind != kind || ce.Chunk != idx || ce.Offset != off {
		t.Errorf("%s: got kind %d chunk %d offset %d, want kind %d chunk %d offset %d (%v)", name, ce.Kind, ce.Chunk, ce.Offset, kind, idx, off, err)
	}
	for _, s := range []error{ErrChunkAuth, ErrTruncated, ErrTrailingData} {
		want := false
		for _, w := range sentinels {
			want = want || w == s
		}
		if errors.Is(err, s) != want {
			t.Errorf("%s: errors.Is(%v) = %v, want %v (%v)", name, s, !want, want, err)
		}
	}
	msg := err.Error()
	if !strings.Contains(msg, fmt.Sprintf("chunk %d ", idx)) || !strings.Contains(msg, fmt.Sprintf("offset %d", off)) {
		t.Errorf("%s: message %q does not name chunk %d and offset %d", name, msg, idx, off)
	}
}

// wantPrefix checks that what the reader released is exactly the first n chunks of plain:
// nothing of a chunk that failed, and nothing of a final chunk not followed by end of file.
func wantPrefix(t *testing.T, name string, got, plain []byte, chunks int) {
	t.Helper()
	if want := plain[:chunks*tcs]; !bytes.Equal(got, want) {
		t.Errorf("%s: reader released %d bytes, want exactly the %d bytes of the %d chunks before the damage", name, len(got), len(want), chunks)
	}
}

func TestTamperHeaderEveryBit(t *testing.T) {
	f := newTamperFixture(t)
	for i := 0; i < HeaderSize; i++ {
		for bit := range 8 {
			file := bytes.Clone(f.short)
			file[i] ^= 1 << bit
			got, _, err := decrypt(file, f.kr)
			name := fmt.Sprintf("header byte %d bit %d", i, bit)
			if len(got) != 0 {
				t.Fatalf("%s: %d bytes released", name, len(got))
			}
			var wk *keys.WrongKeyError
			switch {
			case i < offVersion:
				if !errors.Is(err, ErrNotPgSafe) {
					t.Fatalf("%s: %v, want ErrNotPgSafe", name, err)
				}
			case i == offVersion:
				if !errors.Is(err, ErrUnsupportedVersion) {
					t.Fatalf("%s: %v, want ErrUnsupportedVersion", name, err)
				}
			case i >= offKeyID && i < offSalt:
				// The reader cannot know which key a damaged key ID meant.
				if !errors.As(err, &wk) || wk.Need == f.mk.ID() {
					t.Fatalf("%s: %v, want WrongKeyError", name, err)
				}
			default: // compression, chunk size, backup ID, salt, MAC
				if !errors.Is(err, ErrHeaderTampered) {
					t.Fatalf("%s: %v, want ErrHeaderTampered", name, err)
				}
			}
		}
	}
}

// TestTamperHeaderFields: edits a user might try on purpose, with the MAC left as it was.
func TestTamperHeaderFields(t *testing.T) {
	f := newTamperFixture(t)
	edit := func(off int, b ...byte) []byte {
		file := bytes.Clone(f.short)
		copy(file[off:], b)
		return file
	}
	for name, file := range map[string][]byte{
		"chunk size doubled":   edit(offChunkSize, 0, 2, 0, 0),
		"chunk size huge":      edit(offChunkSize, 0xff, 0xff, 0xff, 0xff),
		"compression zstd":     edit(offCompression, byte(CompressionZstd)),
		"compression unknown":  edit(offCompression, 9),
		"backup ID of another": edit(offBackupID, f.otherBackup[offBackupID:offKeyID]...),
		"salt of another":      edit(offSalt, f.otherBackup[offSalt:offMAC]...),
		"MAC zeroed":           edit(offMAC, make([]byte, 32)...),
		"MAC of another":       edit(offMAC, f.otherBackup[offMAC:HeaderSize]...),
	} {
		if _, _, err := decrypt(file, f.kr); !errors.Is(err, ErrHeaderTampered) {
			t.Errorf("%s: %v, want ErrHeaderTampered", name, err)
		} else if !strings.Contains(err.Error(), "modified or damaged") {
			t.Errorf("%s: message %q", name, err)
		}
	}
	// Without a key, ParseHeader can only see that values are out of range.
	for name, file := range map[string][]byte{
		"chunk size huge":     edit(offChunkSize, 0xff, 0xff, 0xff, 0xff),
		"chunk size tiny":     edit(offChunkSize, 0, 0, 0, 1),
		"compression unknown": edit(offCompression, 9),
	} {
		if _, err := ParseHeader(bytes.NewReader(file)); !errors.Is(err, ErrBadHeader) {
			t.Errorf("ParseHeader, %s: %v, want ErrBadHeader", name, err)
		}
	}
}

// TestFaultyWriterHeader: a header with a valid MAC but values v1 forbids is refused
// before anything is allocated by it.
func TestFaultyWriterHeader(t *testing.T) {
	f := newTamperFixture(t)
	for name, h := range map[string]Header{
		"chunk size 1 GiB": {ChunkSize: 1 << 30},
		"chunk size 1":     {ChunkSize: 1},
		"compression 5":    {ChunkSize: tcs, Compression: 5},
	} {
		h.BackupID, h.KeyID, h.Salt = BackupID{1}, f.mk.ID(), [SaltSize]byte{1}
		fk, err := deriveKeys(f.mk, &h)
		if err != nil {
			t.Fatal(err)
		}
		hdr := h.marshal()
		file := append(append(hdr, fk.headerMAC(hdr)...), make([]byte, 100)...)
		_, _, err = decrypt(file, f.kr)
		if !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), "writer was faulty") {
			t.Errorf("%s: %v, want ErrBadHeader", name, err)
		}
	}
}

func TestTamperHeaderShape(t *testing.T) {
	f := newTamperFixture(t)
	for name, tc := range map[string]struct {
		file []byte
		want error
		msg  string
	}{
		"empty file":      {nil, ErrTruncated, "file is empty"},
		"magic only":      {f.short[:8], ErrTruncated, "inside its header (8 of 102 bytes)"},
		"half header":     {f.short[:50], ErrTruncated, "inside its header (50 of 102 bytes)"},
		"header less one": {f.short[:HeaderSize-1], ErrTruncated, "(101 of 102 bytes)"},
		"text file":       {[]byte("hello, world\n"), ErrNotPgSafe, "signature"},
		"short text":      {[]byte("PG"), ErrTruncated, "inside its header"},
		"pg_dump archive": {[]byte("PGDMP\x01\x0e\x00"), ErrNotPgSafe, "signature"},
		"version 2":       {splice(magic[:], []byte{2}, f.short[offVersion+1:]), ErrUnsupportedVersion, "version 2: this PgSafe reads version 1; a newer PgSafe wrote this file, upgrade"},
		"version 0 short": {splice(magic[:], []byte{0}), ErrUnsupportedVersion, "damaged"},
	} {
		_, _, err := decrypt(tc.file, f.kr)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v containing %q", name, err, tc.want, tc.msg)
		}
		if _, perr := ParseHeader(bytes.NewReader(tc.file)); !errors.Is(perr, tc.want) {
			t.Errorf("ParseHeader, %s: %v, want %v", name, perr, tc.want)
		}
	}
}

func TestWrongKey(t *testing.T) {
	f := newTamperFixture(t)
	other := testKey(t, "someone else")
	_, _, err := decrypt(f.short, keys.Keys{other})
	var wk *keys.WrongKeyError
	if !errors.As(err, &wk) || wk.Need != f.mk.ID() {
		t.Fatalf("err = %v, want WrongKeyError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, f.mk.ID().String()) || !strings.Contains(msg, other.ID().String()) {
		t.Fatalf("message %q must name both keys", msg)
	}
	if _, _, err := NewReader(bytes.NewReader(f.short), nil); err == nil {
		t.Fatal("nil keyring accepted")
	}
	// A keyring that hands out the wrong key under the right ID cannot pass the header MAC.
	_, _, err = decrypt(f.short, liarKeyring{other})
	if !errors.Is(err, ErrHeaderTampered) {
		t.Fatalf("wrong key under the right ID: %v", err)
	}
}

type liarKeyring struct{ k *keys.MasterKey }

func (l liarKeyring) MasterKey(keys.KeyID) (*keys.MasterKey, error) { return l.k, nil }

func TestTamperChunkBits(t *testing.T) {
	f := newTamperFixture(t)
	for _, file0 := range []struct {
		name  string
		file  []byte
		plain []byte
	}{{"short final", f.short, f.plainShort}, {"full final", f.full, f.plainFull}} {
		chunks := int((int64(len(file0.file)) - hs + enc - 1) / enc)
		for i := range chunks {
			c := chunk(file0.file, i)
			for _, pos := range []int{0, len(c) / 2, len(c) - TagSize - 1, len(c) - TagSize, len(c) - 1} {
				file := bytes.Clone(file0.file)
				file[chunkAt(i)+int64(pos)] ^= 0x20
				got, _, err := decrypt(file, f.kr)
				name := fmt.Sprintf("%s: chunk %d byte %d", file0.name, i, pos)
				if i == chunks-1 && len(c) < enc {
					// A short final chunk that fails: cut or damaged, the reader cannot tell.
					wantChunkErr(t, name, err, ChunkCutOrDamaged, uint64(i), chunkAt(i), ErrTruncated, ErrChunkAuth)
				} else {
					wantChunkErr(t, name, err, ChunkAuthFailed, uint64(i), chunkAt(i), ErrChunkAuth)
				}
				wantPrefix(t, name, got, file0.plain, i)
			}
		}
	}
}

func TestTamperTruncation(t *testing.T) {
	f := newTamperFixture(t)
	type tc struct {
		name   string
		file   []byte
		plain  []byte
		kind   ChunkErrorKind
		chunk  uint64
		off    int64
		is     []error
		prefix int // chunks the reader may release before the error
	}
	s, fl := f.short, f.full
	cases := []tc{
		{"right after the header", s[:hs], f.plainShort, ChunkTruncatedInside, 0, hs, []error{ErrTruncated}, 0},
		{"a byte of chunk 0", s[:hs+1], f.plainShort, ChunkTruncatedInside, 0, hs, []error{ErrTruncated}, 0},
		{"15 bytes of chunk 0", s[:hs+15], f.plainShort, ChunkTruncatedInside, 0, hs, []error{ErrTruncated}, 0},
		{"inside chunk 0", s[:hs+1000], f.plainShort, ChunkCutOrDamaged, 0, hs, []error{ErrTruncated, ErrChunkAuth}, 0},
		{"chunk 0 less one byte", s[:chunkAt(1)-1], f.plainShort, ChunkCutOrDamaged, 0, hs, []error{ErrTruncated, ErrChunkAuth}, 0},
		{"after chunk 0", s[:chunkAt(1)], f.plainShort, ChunkTruncatedAfter, 0, chunkAt(1), []error{ErrTruncated}, 0},
		{"a byte into chunk 1", s[:chunkAt(1)+1], f.plainShort, ChunkTruncatedInside, 1, chunkAt(1), []error{ErrTruncated}, 1},
		{"inside chunk 2", s[:chunkAt(2)+5000], f.plainShort, ChunkCutOrDamaged, 2, chunkAt(2), []error{ErrTruncated, ErrChunkAuth}, 2},
		{"after chunk 2 (final chunk missing)", s[:chunkAt(3)], f.plainShort, ChunkTruncatedAfter, 2, chunkAt(3), []error{ErrTruncated}, 2},
		{"final chunk less one byte", s[:len(s)-1], f.plainShort, ChunkCutOrDamaged, 3, chunkAt(3), []error{ErrTruncated, ErrChunkAuth}, 3},
		{"final chunk less its tag", s[:len(s)-TagSize], f.plainShort, ChunkCutOrDamaged, 3, chunkAt(3), []error{ErrTruncated, ErrChunkAuth}, 3},
		{"full final: after chunk 1", fl[:chunkAt(2)], f.plainFull, ChunkTruncatedAfter, 1, chunkAt(2), []error{ErrTruncated}, 1},
		{"full final: less one byte", fl[:len(fl)-1], f.plainFull, ChunkCutOrDamaged, 2, chunkAt(2), []error{ErrTruncated, ErrChunkAuth}, 2},
	}
	for _, c := range cases {
		got, _, err := decrypt(c.file, f.kr)
		wantChunkErr(t, c.name, err, c.kind, c.chunk, c.off, c.is...)
		wantPrefix(t, c.name, got, c.plain, c.prefix)
	}
	// The user-facing message for the common case.
	_, _, err := decrypt(s[:chunkAt(3)], f.kr)
	if want := fmt.Sprintf("backup file is truncated after chunk 2 (offset %d): the upload or copy was incomplete", chunkAt(3)); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// Every cut of the file fails, with no error outside the truncation kinds.
	for n := 0; n < len(s); n += 997 {
		if _, _, err := decrypt(s[:n], f.kr); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
}

func TestTamperTrailingData(t *testing.T) {
	f := newTamperFixture(t)
	end := chunkAt(3) // end of the full-final file (3 chunks)
	for name, file := range map[string][]byte{
		"one byte":              splice(f.full, []byte{0}),
		"a tag's worth":         splice(f.full, make([]byte, TagSize)),
		"the final chunk again": splice(f.full, chunk(f.full, 2)),
		"another backup":        splice(f.full, f.otherBackup),
	} {
		got, _, err := decrypt(file, f.kr)
		wantChunkErr(t, "trailing "+name, err, ChunkTrailingData, 2, end, ErrTrailingData)
		wantPrefix(t, "trailing "+name, got, f.plainFull, 2) // the final chunk is withheld
	}
	// After a short final chunk the boundary is unknown: the final chunk fails to authenticate.
	for name, file := range map[string][]byte{
		"one byte after short": splice(f.short, []byte{0}),
		"a chunk after short":  splice(f.short, make([]byte, enc)),
	} {
		got, _, err := decrypt(file, f.kr)
		var ce *ChunkError
		if !errors.As(err, &ce) || ce.Chunk != 3 || !errors.Is(err, ErrChunkAuth) {
			t.Errorf("%s: %v, want chunk 3 to fail", name, err)
		}
		wantPrefix(t, name, got, f.plainShort, 3)
	}
}

func TestTamperChunkOrder(t *testing.T) {
	f := newTamperFixture(t)
	s := f.short
	hdr := s[:hs]
	c0, c1, c2, c3 := chunk(s, 0), chunk(s, 1), chunk(s, 2), chunk(s, 3)
	o := f.otherBackup
	// chunk is where the reader stops; the short final chunk c3 at the end of the file
	// fails as "cut or damaged" (shortFinal), any other chunk as an authentication failure.
	for _, tc := range []struct {
		name       string
		file       []byte
		chunk      int
		shortFinal bool
	}{
		{"drop chunk 0", splice(hdr, c1, c2, c3), 0, false},
		{"drop chunk 1", splice(hdr, c0, c2, c3), 1, false},
		{"drop chunk 2", splice(hdr, c0, c1, c3), 2, true},
		{"duplicate chunk 0", splice(hdr, c0, c0, c1, c2, c3), 1, false},
		{"duplicate chunk 1", splice(hdr, c0, c1, c1, c2, c3), 2, false},
		{"swap chunks 0 and 1", splice(hdr, c1, c0, c2, c3), 0, false},
		{"swap chunks 1 and 2", splice(hdr, c0, c2, c1, c3), 1, false},
		{"chunk 1 from another backup", splice(hdr, c0, chunk(o, 1), c2, c3), 1, false},
		{"header of another backup", splice(o[:hs], c0, c1, c2, c3), 0, false},
		{"final chunk from another backup", splice(hdr, c0, c1, c2, chunk(o, 3)), 3, true},
	} {
		got, _, err := decrypt(tc.file, f.kr)
		if tc.shortFinal {
			wantChunkErr(t, tc.name, err, ChunkCutOrDamaged, uint64(tc.chunk), chunkAt(tc.chunk), ErrTruncated, ErrChunkAuth)
		} else {
			wantChunkErr(t, tc.name, err, ChunkAuthFailed, uint64(tc.chunk), chunkAt(tc.chunk), ErrChunkAuth)
		}
		wantPrefix(t, tc.name, got, f.plainShort, tc.chunk)
	}
	// Moving the final chunk forward: a full file cut after chunk 1 with the final chunk
	// of the same file after it.
	fl := f.full
	got, _, err := decrypt(splice(fl[:hs], chunk(fl, 0), chunk(fl, 2)), f.kr)
	wantChunkErr(t, "final chunk moved forward", err, ChunkAuthFailed, 1, chunkAt(1), ErrChunkAuth)
	wantPrefix(t, "final chunk moved forward", got, f.plainFull, 1)
}

// TestEmptyFinalChunkRejected: an empty final chunk after a full one is never written, so
// it is refused even though it authenticates (one plaintext, one encoding).
func TestEmptyFinalChunkRejected(t *testing.T) {
	f := newTamperFixture(t)
	h, err := ParseHeader(bytes.NewReader(f.full))
	if err != nil {
		t.Fatal(err)
	}
	fk, err := deriveKeys(f.mk, &h)
	if err != nil {
		t.Fatal(err)
	}
	// Re-seal chunk 2 as non-final and append an empty final chunk 3.
	c2 := fk.payload.Seal(nil, nonce(2, false), f.plainFull[2*tcs:], nil)
	c3 := fk.payload.Seal(nil, nonce(3, true), nil, nil)
	file := splice(f.full[:chunkAt(2)], c2, c3)
	got, _, err := decrypt(file, f.kr)
	wantChunkErr(t, "empty final chunk", err, ChunkEmptyFinal, 3, chunkAt(3), ErrChunkAuth)
	wantPrefix(t, "empty final chunk", got, f.plainFull, 3)
}

// TestZstdTamper: with compression, the chunk errors come through unchanged and the
// released data is a prefix of the original.
func TestZstdTamper(t *testing.T) {
	mk := testKey(t, "zstd tamper")
	plain := dumpLike(1<<20, 11)
	file := encrypt(t, mk, plain, tcs, CompressionZstd)
	if len(file) < int(chunkAt(3)) {
		t.Fatalf("fixture too small: %d bytes", len(file))
	}
	flip := bytes.Clone(file)
	flip[chunkAt(2)+100] ^= 1
	for name, tc := range map[string]struct {
		file []byte
		want error
	}{
		"flipped bit in chunk 2":  {flip, ErrChunkAuth},
		"truncated after chunk 1": {file[:chunkAt(2)], ErrTruncated},
		"trailing data":           {splice(file, []byte("x")), ErrChunkAuth},
	} {
		got, _, err := decrypt(tc.file, keys.Keys{mk})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		var ce *ChunkError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v is not a ChunkError", name, err)
		} else if err.Error() != ce.Error() {
			t.Errorf("%s: the chunk error is dressed up as a zstd error: %v", name, err)
		}
		if !bytes.HasPrefix(plain, got) || len(got) > 2*tcs*8 {
			t.Errorf("%s: released %d bytes that are not a prefix of the data", name, len(got))
		}
	}
}
