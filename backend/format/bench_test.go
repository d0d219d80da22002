package format

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// benchData: 32 MiB shaped like a plain pg_dump with realistic, partly random columns
// (about 2× compressible, where pgbench data would be 100×).
var benchData = sync.OnceValue(func() []byte { return dumpLike(32<<20, 42) })

func BenchmarkEncrypt(b *testing.B) {
	mk := testKey(b, "bench")
	data := benchData()
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var out countWriter
			for b.Loop() {
				out.n = 0
				w, err := NewWriter(&out, mk, Header{BackupID: BackupID{1}, Compression: c})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data))/float64(out.n), "ratio")
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	mk := testKey(b, "bench")
	data := benchData()
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		b.Run(c.String(), func(b *testing.B) {
			file := encrypt(b, mk, data, 0, c)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, _, err := NewReader(bytes.NewReader(file), keys.Keys{mk})
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(data)) {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkZstdLevels compares the encoder settings the writer could use, on dump data.
func BenchmarkZstdLevels(b *testing.B) {
	data := benchData()
	for _, tc := range []struct {
		name  string
		level zstd.EncoderLevel
	}{{"fastest", zstd.SpeedFastest}, {"default", zstd.SpeedDefault}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var out countWriter
			for b.Loop() {
				out.n = 0
				zw, err := zstd.NewWriter(&out, zstd.WithEncoderLevel(tc.level), zstd.WithEncoderConcurrency(2))
				if err != nil {
					b.Fatal(err)
				}
				zw.Write(data)
				zw.Close()
			}
			b.ReportMetric(float64(len(data))/float64(out.n), "ratio")
		})
	}
}
