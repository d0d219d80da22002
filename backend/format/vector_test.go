package format

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

var update = flag.Bool("update", false, "write missing test vectors and fuzz seeds (never overwrites: vectors are frozen)")

const vectorDir = "testdata/format-v1"

// The fixed inputs of the v1 vectors (docs/FORMAT.md, "Test vectors").
var (
	vectorMasterKey = sha256.Sum256([]byte("PgSafe format v1 test vector master key"))
	vectorSalt      = sha256.Sum256([]byte("PgSafe format v1 test vector salt"))
	vectorBackupID  = BackupID{0x5f, 0x0e, 0x2a, 0x4c, 0x9d, 0x3b, 0x4a, 0x71, 0x8c, 0x6e, 0x2b, 0x1d, 0x0f, 0x3e, 0x7a, 0x95}
)

const (
	vectorChunkSize = 64 << 10
	vectorPlainSize = 5 * vectorChunkSize // the uncompressed vector ends in a full-size final chunk
)

func vectorHeader(c Compression) Header {
	mk, _ := keys.MasterKeyFromBytes(vectorMasterKey[:])
	return Header{BackupID: vectorBackupID, KeyID: mk.ID(), Salt: vectorSalt, ChunkSize: vectorChunkSize, Compression: c}
}

// encryptWithHeader encrypts plain with every header field fixed (salt included).
func encryptWithHeader(t testing.TB, mk *keys.MasterKey, h Header, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, mk, h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// generatedVectors returns every file of testdata/format-v1 as this code produces it.
func generatedVectors(t testing.TB) map[string][]byte {
	mk, err := keys.MasterKeyFromBytes(vectorMasterKey[:])
	if err != nil {
		t.Fatal(err)
	}
	plain := dumpLike(vectorPlainSize, 1)
	return map[string][]byte{
		"key":                      formatKeyFile(mk),
		"plain":                    plain,
		"backup.pgsafe":            encryptWithHeader(t, mk, vectorHeader(CompressionZstd), plain),
		"backup-nocompress.pgsafe": encryptWithHeader(t, mk, vectorHeader(CompressionNone), plain),
	}
}

// TestGenerateVector writes the vectors when they are missing and -update is given. Without
// -update it checks that this code still writes the committed key file and uncompressed
// vector byte for byte (the zstd vector's compressed bytes may change with the zstd
// library; its encryption layer is checked in TestFormatV1Vectors).
func TestGenerateVector(t *testing.T) {
	gen := generatedVectors(t)
	for name, data := range gen {
		path := filepath.Join(vectorDir, name)
		old, err := os.ReadFile(path)
		switch {
		case err == nil && bytes.Equal(old, data):
		case err == nil && name == "backup.pgsafe":
			t.Logf("%s: the zstd library now compresses differently; the committed file stays", name)
		case err == nil:
			t.Errorf("%s: this code no longer writes the committed vector: the v1 format changed", name)
		case os.IsNotExist(err) && *update:
			if err := os.MkdirAll(vectorDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(data))
		default:
			t.Errorf("%s: %v (run with -update once to create missing vectors)", name, err)
		}
	}
	if *update {
		writeFuzzSeeds(t)
	}
}

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatalf("%v: the committed v1 vectors must exist", err)
	}
	return b
}

// Intermediate values of the vectors, also listed in docs/FORMAT.md.
const (
	wantKeyID        = "8008a1e937543c33"
	wantBackupKey    = "4c4705aa7d400232053103e2496ccc6c8b4adc7d0fef04db4edcd504c4612a70"
	wantPayloadKey   = "52c7eda862168eb09aca43622b506cacc7c4c7092bb17facef0669640d511109"
	wantHeaderMACKey = "4064801269730acb620e68b0b515a1f7fe69af24bd4ce094bc03eaf2640b2fba"
	wantHeaderNone   = "5047534146451a0a0100000100005f0e2a4c9d3b4a718c6e2b1d0f3e7a958008a1e937543c33e45dcaade737a479e016e33b218855ec511cdc6cb2b6c1981058a6e0a72ded507c96c66512f4aeff259f76021284f49bc277e33f3bdd781081f5d4bb9c92be58"
	wantHeaderZstd   = "5047534146451a0a0101000100005f0e2a4c9d3b4a718c6e2b1d0f3e7a958008a1e937543c33e45dcaade737a479e016e33b218855ec511cdc6cb2b6c1981058a6e0a72ded509cbdf4c46b4571337e417337f16f654c2464f76569e78d5b5d09bcc8c83242f4"
	wantPlainSHA256  = "f540d564c46a7b4f28ae367c16c809bd815c15b8f3f40a192907711c84460135"
	wantNoneSHA256   = "89ef8c16bd95b5ecdcb00716c0ed796adbc892292c72ed0803b8a1e8547c76a6"
	wantZstdSHA256   = "483b20eceed4f75c973a9e478c1937802de61e2104ac09b5030225e64170db55"
	wantZstdFileSize = 153610
	wantNoneFileSize = HeaderSize + vectorPlainSize + 5*TagSize
	wantChunk0Prefix = "663345d16005b0fbc844356e416d9d24"
	wantFinalNoneTag = "36164349cc9fdcef503d343b73564289"
)

// TestFormatV1Vectors: the committed files decrypt to the committed plaintext, forever.
func TestFormatV1Vectors(t *testing.T) {
	mk, err := parseKeyFile(readVector(t, "key"))
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	plain := readVector(t, "plain")
	kr := keys.Keys{mk}

	for _, tc := range []struct {
		file string
		comp Compression
	}{{"backup.pgsafe", CompressionZstd}, {"backup-nocompress.pgsafe", CompressionNone}} {
		t.Run(tc.file, func(t *testing.T) {
			file := readVector(t, tc.file)
			got, h, err := decrypt(file, kr)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decrypted %d bytes differ from plain (%d bytes)", len(got), len(plain))
			}
			want := vectorHeader(tc.comp)
			if h != want {
				t.Fatalf("header %+v, want %+v", h, want)
			}
			// The encryption layer re-encodes to the same bytes: the writer is frozen too.
			_, sr, err := openPayload(bytes.NewReader(file), kr)
			if err != nil {
				t.Fatal(err)
			}
			payload, err := io.ReadAll(sr)
			if err != nil {
				t.Fatal(err)
			}
			if again := encryptRaw(t, mk, want, payload); !bytes.Equal(again, file) {
				t.Fatal("re-encrypting the payload does not reproduce the file")
			}
		})
	}

	// Intermediate values, for other implementations (docs/FORMAT.md).
	h := vectorHeader(CompressionNone)
	backupKey, _ := mk.Derive(keys.LabelBackupKey, h.Salt[:], h.BackupID[:], 32)
	payloadKey, _ := hkdf.Key(sha256.New, backupKey, nil, labelPayloadKey, 32)
	macKey, _ := hkdf.Key(sha256.New, backupKey, nil, labelHeaderMACKey, 32)
	none, zstdFile := readVector(t, "backup-nocompress.pgsafe"), readVector(t, "backup.pgsafe")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	got := map[string]string{
		"key ID":                        mk.ID().String(),
		"backup key":                    hex.EncodeToString(backupKey),
		"payload key":                   hex.EncodeToString(payloadKey),
		"header MAC key":                hex.EncodeToString(macKey),
		"header (nocompress)":           hex.EncodeToString(none[:HeaderSize]),
		"header (zstd)":                 hex.EncodeToString(zstdFile[:HeaderSize]),
		"SHA-256 plain":                 sum(plain),
		"SHA-256 backup-nocompress":     sum(none),
		"SHA-256 backup":                sum(zstdFile),
		"chunk 0 first 16 bytes (none)": hex.EncodeToString(none[HeaderSize : HeaderSize+16]),
		"final chunk tag (none)":        hex.EncodeToString(none[len(none)-TagSize:]),
		"file size (none)":              fmt.Sprint(len(none)),
		"file size (zstd)":              fmt.Sprint(len(zstdFile)),
	}
	want := map[string]string{
		"key ID":                        wantKeyID,
		"backup key":                    wantBackupKey,
		"payload key":                   wantPayloadKey,
		"header MAC key":                wantHeaderMACKey,
		"header (nocompress)":           wantHeaderNone,
		"header (zstd)":                 wantHeaderZstd,
		"SHA-256 plain":                 wantPlainSHA256,
		"SHA-256 backup-nocompress":     wantNoneSHA256,
		"SHA-256 backup":                wantZstdSHA256,
		"chunk 0 first 16 bytes (none)": wantChunk0Prefix,
		"final chunk tag (none)":        wantFinalNoneTag,
		"file size (none)":              fmt.Sprint(wantNoneFileSize),
		"file size (zstd)":              fmt.Sprint(wantZstdFileSize),
	}
	for k, g := range got {
		if want[k] != g {
			t.Errorf("%s = %s, want %s", k, g, want[k])
		}
	}
}

// encryptRaw encrypts payload as is (no compression step) under header h.
func encryptRaw(t testing.TB, mk *keys.MasterKey, h Header, payload []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	sw, err := newStreamWriter(&buf, mk, &h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestKeyFileFormat(t *testing.T) {
	mk, err := parseKeyFile(readVector(t, "key"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(formatKeyFile(mk), readVector(t, "key")) {
		t.Fatal("the committed key file is not what a writer writes")
	}
	good := string(formatKeyFile(mk))
	for name, body := range map[string]string{
		"wrong magic":     "PGSAFE-KEY-2\n" + good[len("PGSAFE-KEY-1\n"):],
		"id mismatch":     "PGSAFE-KEY-1\nid: 0000000000000000\nkey: " + hex.EncodeToString(mk.Bytes()) + "\n",
		"missing key":     "PGSAFE-KEY-1\nid: " + mk.ID().String() + "\n",
		"unknown field":   good + "extra: 1\n",
		"repeated field":  good + "id: " + mk.ID().String() + "\n",
		"no space":        "PGSAFE-KEY-1\nid:" + mk.ID().String() + "\nkey: " + hex.EncodeToString(mk.Bytes()) + "\n",
		"short key":       "PGSAFE-KEY-1\nid: " + mk.ID().String() + "\nkey: 00\n",
		"too large":       good + "#" + string(bytes.Repeat([]byte{'x'}, 4096)) + "\n",
		"wrong id length": "PGSAFE-KEY-1\nid: 0" + mk.ID().String() + "\nkey: " + hex.EncodeToString(mk.Bytes()) + "\n",
	} {
		if _, err := parseKeyFile([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	crlf := bytes.ReplaceAll([]byte(good), []byte("\n"), []byte("  \r\n"))
	if k, err := parseKeyFile(bytes.TrimSuffix(crlf, []byte("\r\n"))); err != nil || !k.Equal(mk) {
		t.Fatalf("CRLF, trailing spaces, no final newline: %v", err)
	}
}
