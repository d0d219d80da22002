package store

// schemaV1 is the first schema. Each `sealed` column holds one sealed record
// (backend/seal) with everything the user typed for that row; the other
// columns are ids, kinds, timestamps (unix milliseconds, UTC), status and
// sizes. Integer ids are AUTOINCREMENT so that an id is never reused after a
// delete: a row id names one row for the life of the file, in sealed records'
// associated data and in the audit log.
const schemaV1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE databases (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL
) STRICT;

CREATE TABLE storages (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL
) STRICT;

CREATE TABLE database_storages (
  database_id INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
  storage_id  INTEGER NOT NULL REFERENCES storages(id) ON DELETE RESTRICT,
  PRIMARY KEY (database_id, storage_id)
) STRICT;
CREATE INDEX database_storages_storage ON database_storages(storage_id);

CREATE TABLE notifiers (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,
  enabled    INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL
) STRICT;

CREATE TABLE schedules (
  database_id INTEGER PRIMARY KEY REFERENCES databases(id) ON DELETE CASCADE,
  enabled     INTEGER NOT NULL,
  last_run_at INTEGER,
  next_run_at INTEGER,
  updated_at  INTEGER NOT NULL,
  sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX schedules_next_run ON schedules(next_run_at) WHERE enabled = 1;

CREATE TABLE retention_policies (
  database_id INTEGER PRIMARY KEY REFERENCES databases(id) ON DELETE CASCADE,
  updated_at  INTEGER NOT NULL,
  sealed      BLOB NOT NULL
) STRICT;

CREATE TABLE backups (
  id          TEXT PRIMARY KEY,
  database_id INTEGER REFERENCES databases(id) ON DELETE SET NULL,
  status      TEXT NOT NULL,
  origin      TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  raw_size    INTEGER,
  stored_size INTEGER,
  key_id      TEXT NOT NULL,
  sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX backups_database_started ON backups(database_id, started_at);

CREATE TABLE backup_copies (
  backup_id  TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
  storage_id INTEGER NOT NULL REFERENCES storages(id) ON DELETE CASCADE,
  status     TEXT NOT NULL,
  size       INTEGER,
  updated_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL,
  PRIMARY KEY (backup_id, storage_id)
) STRICT;
CREATE INDEX backup_copies_storage ON backup_copies(storage_id);

CREATE TABLE restores (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  backup_id   TEXT REFERENCES backups(id) ON DELETE SET NULL,
  database_id INTEGER REFERENCES databases(id) ON DELETE SET NULL,
  status      TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX restores_backup ON restores(backup_id, started_at);
CREATE INDEX restores_database ON restores(database_id, started_at);

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  updated_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL
) STRICT;

CREATE TABLE audit_log (
  seq     INTEGER PRIMARY KEY,   -- 1, 2, 3, … without gaps
  at      INTEGER NOT NULL,      -- unix milliseconds, UTC
  action  TEXT NOT NULL,         -- e.g. "backup.finished", "key.exported"
  outcome TEXT NOT NULL,         -- "ok" | "failed" | "denied"
  details BLOB NOT NULL,         -- sealed record (table "audit_log", row = seq)
  mac     BLOB NOT NULL          -- HMAC chain, computed by backend/audit
) STRICT;
`
