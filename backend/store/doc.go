// Package store owns PgSafe's settings database: one SQLite file in the
// settings directory holding connections, storages, notifiers, schedules,
// retention policies, backup and restore history, app settings and the audit
// log's rows.
//
// Everything a user typed lives only inside sealed records (backend/seal): each
// row has exactly one sealed blob, sealed with a fresh nonce on every write and
// bound to its table, row id and record version, so a blob copied to another
// row does not open. Plaintext columns hold only what the app must index or
// order: ids, kinds, timestamps, status, sizes and foreign keys.
//
// Secrets (passwords, tokens, keys) are write-only through this package: the
// repositories' Get and List methods return them as Secret values that say
// only whether a secret is set; the engine asks for them explicitly
// (DatabaseCredentials, StorageCredentials, NotifierCredentials).
//
// No SQL lives outside this package, except the audit package, which owns the
// audit_log table created here (see DB and WriteTx). docs/STORE.md describes
// the schema, the sealing and the concurrency rules.
package store
