// Package format reads and writes PgSafe backup files, format v1 (docs/FORMAT.md).
//
// A backup file is a 102-byte header (magic, version, compression, chunk size, backup ID,
// key ID, random salt, HMAC-SHA256 of all of it) followed by the payload: the backup data,
// zstd-compressed if the header says so, cut into chunks and encrypted with AES-256-GCM in
// age's STREAM construction (nonce = 88-bit chunk counter ‖ last-chunk flag). Every backup
// has its own key, derived with HKDF-SHA256 from the master key, the salt and the backup ID.
//
// The API is age's in shape:
//
//	w, err := format.NewWriter(dst, masterKey, format.Header{BackupID: id, Compression: format.CompressionZstd})
//	io.Copy(w, dump); err = w.Close()
//
//	r, h, err := format.NewReader(src, keyring) // r yields the original (decompressed) data
//	h, err := format.ParseHeader(src)           // unauthenticated, for listing without a key
//
// Readers and writers stream with memory for about two chunks. A reader never returns a
// byte that failed authentication, and returns the final chunk only after it has seen the
// end of the file. Errors are sentinels (ErrTruncated, ErrChunkAuth, ...) wrapped with
// context; chunk-level errors are *ChunkError values naming the chunk and byte offset.
//
// The files in testdata/format-v1 are known-answer vectors: they must decrypt forever.
package format
