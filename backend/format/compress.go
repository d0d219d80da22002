package format

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxWindow is the largest zstd window a v1 writer may use and this reader accepts
// (docs/FORMAT.md, "Compression").
const zstdMaxWindow = 8 << 20

// zstdEncoderOptions: SpeedFastest compresses dump data about as well as SpeedDefault at
// about twice the speed (BenchmarkZstdLevels); two goroutines keep a dump's pace on a
// small machine. The level is the writer's choice, not part of the format.
func zstdEncoderOptions() []zstd.EOption {
	return []zstd.EOption{
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(2),
		zstd.WithWindowSize(4 << 20),
		zstd.WithEncoderCRC(true),
		zstd.WithZeroFrames(true),
	}
}

// zstdWriter compresses into a streamWriter.
type zstdWriter struct {
	zw *zstd.Encoder
	sw *streamWriter
}

// encoders keeps zstd encoders a writer closed cleanly for the next writer:
// a backup writes three files (the dump, its manifest, the server's roles),
// and a new encoder allocates and clears its windows and buffers (~10 MB)
// each time — a large part of a small backup's own CPU time.
var encoders sync.Pool

func newZstdWriter(sw *streamWriter) (*zstdWriter, error) {
	if zw, ok := encoders.Get().(*zstd.Encoder); ok {
		zw.Reset(sw)
		return &zstdWriter{zw: zw, sw: sw}, nil
	}
	zw, err := zstd.NewWriter(sw, zstdEncoderOptions()...)
	if err != nil {
		return nil, fmt.Errorf("start zstd: %w", err)
	}
	return &zstdWriter{zw: zw, sw: sw}, nil
}

func (w *zstdWriter) Write(p []byte) (int, error) {
	if w.zw == nil { // closed: the stream writer says so
		return w.sw.Write(p)
	}
	n, err := w.zw.Write(p)
	if err != nil {
		return n, w.cause(err)
	}
	return n, nil
}

// Close flushes the zstd frame, then writes the final chunk.
// Its encoder goes back to encoders once the frame is complete (not after a
// failure: a broken encoder is dropped).
func (w *zstdWriter) Close() error {
	if w.zw == nil { // closed before
		return w.sw.Close()
	}
	if err := w.zw.Close(); err != nil {
		return w.cause(err)
	}
	zw := w.zw
	w.zw = nil
	zw.Reset(nil) // forget this writer's destination before another takes it
	encoders.Put(zw)
	return w.sw.Close()
}

// cause prefers the stream writer's own error (e.g. the destination failed) to zstd's
// report of it.
func (w *zstdWriter) cause(err error) error {
	if w.sw.err != nil && w.sw.err != errWriterClosed {
		return w.sw.err
	}
	return fmt.Errorf("compress backup: %w", err)
}

// zstdReader decompresses the authenticated payload of a streamReader.
type zstdReader struct {
	zr  *zstd.Decoder
	sr  *streamReader
	err error
}

func newZstdReader(sr *streamReader) (*zstdReader, error) {
	// Concurrency 1 decodes in the caller's goroutine: nothing to Close, nothing leaks
	// when a caller abandons the reader.
	zr, err := zstd.NewReader(sr,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
	)
	if err != nil {
		return nil, fmt.Errorf("start zstd: %w", err)
	}
	return &zstdReader{zr: zr, sr: sr}, nil
}

func (r *zstdReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.zr.Read(p)
	if err == nil {
		return n, nil
	}
	switch {
	case r.sr.err != nil && r.sr.err != io.EOF:
		err = r.sr.err // the payload's own error (truncated, tampered …) says more
	case err == io.EOF:
		// The decoder reads to the end of the payload; if it ever stopped short, chunks
		// after that point (or data after the file) would go unchecked.
		if !r.sr.final || len(r.sr.plain) > 0 {
			err = errors.New("decompress backup: the zstd stream ended before the payload did (the writer was faulty)")
		}
	default:
		err = fmt.Errorf("decompress backup: the payload authenticated but is not a valid zstd stream (the writer was faulty): %w", err)
	}
	r.err = err
	r.zr.Close()
	return n, err
}
