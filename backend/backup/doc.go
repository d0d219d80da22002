// Package backup makes one backup of one database: it opens a consistent
// snapshot, records what the snapshot holds (server version, tables, row
// counts), streams pg_dump's archive of that same snapshot through the
// backup file format (zstd, then AES-256-GCM under a per-backup key) to every
// storage at once, and writes an encrypted manifest beside it last, as the
// mark of a finished backup. See docs/BACKUP.md.
package backup
