// Package pgarchive reads PostgreSQL's custom archive format (the output of
// `pg_dump --format=custom`) as it streams past, and counts the rows of every
// table's data in it. It reads nothing but the archive's bytes, so it is
// exact by construction: the rows it counts are the rows stored.
//
// # The format
//
// The layout below is pg_dump's (src/bin/pg_dump/pg_backup_archiver.c,
// WriteHead/WriteToc, and pg_backup_custom.c) for archive versions 1.10 to
// 1.16: PostgreSQL 9.0 to 17 write 1.12–1.16 (13: 1.14, 15: 1.14, 16: 1.15,
// 17: 1.16). Two primitive types:
//
//   - int: one sign byte (non-zero: negative), then intSize bytes of the
//     absolute value, least significant first (intSize is 4 in practice).
//   - str: an int length, then that many bytes; a negative length is NULL.
//
// The archive, in order:
//
//  1. Header: "PGDMP"; version bytes major, minor, revision; intSize;
//     offSize; format (1: custom); compression — from 1.15 one byte, the
//     algorithm (0: none), before it an int, the gzip level (0: none); seven
//     ints of creation time; str database name; str server version; str
//     pg_dump version.
//  2. Table of contents: int count, then per entry: int dumpId (> 0); int
//     hadDumper; str tableoid; str oid; str tag (a table's name); str desc
//     ("TABLE DATA", "TABLE", "INDEX", …); int section (1.11+); str defn;
//     str dropStmt; str copyStmt ("COPY … FROM stdin;" when the data is COPY
//     text, empty for INSERT data); str namespace (the schema); str
//     tablespace; str tableam (1.14+); int relkind (1.16+); str owner; str
//     withOids; strs of dependency ids ending with a NULL str; and the custom
//     format's offset of the entry's data: one flag byte and offSize bytes
//     (not set when pg_dump writes to a pipe).
//  3. Data blocks, until the end of the stream: one byte block type, int
//     dumpId (the TOC entry it belongs to), then
//     - type 1 (table data): chunks, each an int length and that many bytes,
//     ending with a zero length;
//     - type 3 (large objects): per object an int oid and its chunks as
//     above, ending with a zero oid.
//
// With compression none (pg_dump --compress=0, which PgSafe always passes:
// zstd follows in its own pipeline) a table's chunks, concatenated, are the
// COPY text of its rows: one row per line, every newline inside a value
// escaped as \n, so the rows are the newline bytes. Old archives may end the
// data with a `\.` line, which is not a row. A compressed archive's data is
// skipped: its tables are reported, not counted.
//
// # Streaming
//
// Counter is an io.Writer: a pipeline tees the archive through it
// (io.TeeReader) and the bytes go on unchanged. It parses as bytes arrive,
// keeps only the TOC's TABLE DATA entries (names capped in length) and the
// last few bytes of the current block, never a block or a chunk, and never
// fails a Write: an archive it cannot read ends the counting, with the reason
// in Close's error, not the stream.
package pgarchive
