package format

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; the error returned always carries more
// context (which chunk, which offset, what to do).
var (
	// ErrNotPgSafe: the file does not start with PgSafe's magic.
	ErrNotPgSafe = errors.New("not a PgSafe backup file")
	// ErrUnsupportedVersion: a PgSafe file of a format version this build cannot read.
	ErrUnsupportedVersion = errors.New("unsupported backup format version")
	// ErrBadHeader: a header field holds a value v1 does not allow (chunk size, compression).
	ErrBadHeader = errors.New("invalid backup header")
	// ErrHeaderTampered: the header MAC does not match: the header was modified or damaged.
	ErrHeaderTampered = errors.New("backup header failed authentication")
	// ErrChunkAuth: a payload chunk failed authentication (modified, damaged, reordered,
	// dropped, duplicated, or from another backup).
	ErrChunkAuth = errors.New("backup chunk failed authentication")
	// ErrTruncated: the file ends before its final chunk.
	ErrTruncated = errors.New("backup file is truncated")
	// ErrTrailingData: bytes follow the final chunk.
	ErrTrailingData = errors.New("backup file has data after its final chunk")
)

// A ChunkError reports a problem with the payload at a given chunk. It matches
// ErrChunkAuth, ErrTruncated or ErrTrailingData with errors.Is (a file that ends inside a
// chunk that does not authenticate matches both ErrTruncated and ErrChunkAuth, because a
// reader cannot tell a cut from damage there).
type ChunkError struct {
	Chunk  uint64 // index of the chunk, counted from 0 (the nonce counter)
	Offset int64  // byte offset in the file where the problem is (see Kind)
	Kind   ChunkErrorKind
	Size   int // bytes of the chunk that were present (ChunkTruncatedInside, ChunkCutOrDamaged)
}

// ChunkErrorKind says what went wrong with a chunk and what Offset points at.
type ChunkErrorKind int

const (
	// ChunkAuthFailed: chunk Chunk, starting at Offset, failed authentication.
	ChunkAuthFailed ChunkErrorKind = iota
	// ChunkTruncatedAfter: the file ends at Offset, right after non-final chunk Chunk.
	ChunkTruncatedAfter
	// ChunkTruncatedInside: the file ends inside chunk Chunk (starting at Offset) before
	// even its tag could be present.
	ChunkTruncatedInside
	// ChunkCutOrDamaged: the file ends Size bytes into chunk Chunk (starting at Offset),
	// and those bytes do not authenticate as the final chunk: cut short, or altered.
	ChunkCutOrDamaged
	// ChunkTrailingData: chunk Chunk is the final chunk, but data follows it at Offset.
	ChunkTrailingData
	// ChunkEmptyFinal: chunk Chunk (at Offset) is an empty final chunk after a full one,
	// which no v1 writer produces.
	ChunkEmptyFinal
)

func (e *ChunkError) Error() string {
	switch e.Kind {
	case ChunkTruncatedAfter:
		return fmt.Sprintf("backup file is truncated after chunk %d (offset %d): the upload or copy was incomplete", e.Chunk, e.Offset)
	case ChunkTruncatedInside:
		if e.Size == 0 {
			return fmt.Sprintf("backup file is truncated at chunk %d (offset %d): none of it is present: the upload or copy was incomplete", e.Chunk, e.Offset)
		}
		return fmt.Sprintf("backup file is truncated inside chunk %d (chunk starts at offset %d, only %d bytes of it present): the upload or copy was incomplete", e.Chunk, e.Offset, e.Size)
	case ChunkCutOrDamaged:
		return fmt.Sprintf("backup file ends inside chunk %d (chunk starts at offset %d, %d bytes of it present) and that data does not authenticate: the upload or copy was cut short, or the end of the file was damaged or modified", e.Chunk, e.Offset, e.Size)
	case ChunkTrailingData:
		return fmt.Sprintf("backup file has unexpected data after its final chunk %d (from offset %d): something was appended to the file", e.Chunk, e.Offset)
	case ChunkEmptyFinal:
		return fmt.Sprintf("backup chunk %d (offset %d) is an empty final chunk after a full one, which PgSafe never writes: the file is not a valid backup", e.Chunk, e.Offset)
	default:
		return fmt.Sprintf("backup chunk %d (offset %d) failed authentication: the file was damaged or modified (or its chunks were reordered, dropped, or taken from another backup)", e.Chunk, e.Offset)
	}
}

// Unwrap lets errors.Is match the sentinel(s) of the kind.
func (e *ChunkError) Unwrap() []error {
	switch e.Kind {
	case ChunkTruncatedAfter, ChunkTruncatedInside:
		return []error{ErrTruncated}
	case ChunkCutOrDamaged:
		return []error{ErrTruncated, ErrChunkAuth}
	case ChunkTrailingData:
		return []error{ErrTrailingData}
	default:
		return []error{ErrChunkAuth}
	}
}
