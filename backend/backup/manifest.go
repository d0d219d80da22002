package backup

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// ManifestKind marks a manifest's JSON, so a manifest file cannot be taken
// for a backup file (they share the backup ID) or the other way round.
const ManifestKind = "pgsafe-manifest"

// ManifestVersion is the version of the manifest's JSON shape.
const ManifestVersion = 1

// Manifest records what one backup holds. It is stored in the settings
// database and, encrypted, beside the backup in every storage, so that a
// storage and the master key are enough to list and restore backups.
type Manifest struct {
	Kind    string `json:"kind"` // ManifestKind
	Version int    `json:"version"`

	BackupID      string `json:"backup_id"`       // hex of format.BackupID
	DatabaseID    string `json:"database_id"`     // PgSafe's id of the database entry
	DatabaseName  string `json:"database_name"`   // the database's name on its server
	Label         string `json:"label,omitempty"` // the user's name for the entry
	ServerVersion string `json:"server_version"`
	ServerMajor   int    `json:"server_major"`
	PgDumpVersion string `json:"pg_dump_version"`

	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`

	RawSize        int64  `json:"raw_size"`        // pg_dump's archive
	CompressedSize int64  `json:"compressed_size"` // after zstd
	StoredSize     int64  `json:"stored_size"`     // the encrypted file
	SHA256         string `json:"sha256"`          // hex, of the encrypted file
	FormatVersion  int    `json:"format_version"`
	KeyID          string `json:"key_id"`
	ChunkSize      int    `json:"chunk_size"`

	Object   string        `json:"object"`   // the backup's object name in each storage
	Storages []StorageCopy `json:"storages"` // where it was written
	Tables   []TableCount  `json:"tables"`
	// RowsCounted says whether every table's rows were counted; if not,
	// Tables says which were.
	RowsCounted bool `json:"rows_counted"`

	// Globals names the object beside the backup holding the server's roles
	// and tablespaces (never passwords), which a restore needs to give
	// objects their owners and grants on another server. When they could not
	// be read, GlobalsMissing says why. Both are absent in manifests of older
	// PgSafe versions.
	Globals        *GlobalsInfo `json:"globals,omitempty"`
	GlobalsMissing string       `json:"globals_missing,omitempty"`

	// Audit is the newest audit log entry when the backup started: a witness
	// kept off the machine that the settings database's log must still hold
	// (docs/AUDIT.md). Absent in manifests of older PgSafe versions.
	Audit *AuditWitness `json:"audit,omitempty"`
}

// AuditWitness is one audit log entry's sequence number and MAC (hex), and
// the store ID of the settings database whose log it is (a backup imported
// into another settings database is not a witness of that one's log).
type AuditWitness struct {
	Store string `json:"store"`
	Seq   int64  `json:"seq"`
	MAC   string `json:"mac"`
}

// StorageCopy is one storage the backup was written to.
type StorageCopy struct {
	StorageID string `json:"storage_id"`
	Name      string `json:"name,omitempty"`
}

// MarshalManifest encodes m as JSON.
func MarshalManifest(m *Manifest) ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

// ParseManifest decodes a manifest and checks it is one.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not a PgSafe manifest: %w", err)
	}
	if m.Kind != ManifestKind {
		return nil, fmt.Errorf("not a PgSafe manifest (kind %q)", m.Kind)
	}
	if m.Version > ManifestVersion {
		return nil, fmt.Errorf("the manifest was written by a newer PgSafe (manifest version %d): update PgSafe", m.Version)
	}
	return &m, nil
}

// Table looks up a table's entry.
func (m *Manifest) Table(schema, name string) (TableCount, bool) {
	for _, t := range m.Tables {
		if t.Schema == schema && t.Name == name {
			return t, true
		}
	}
	return TableCount{}, false
}

// maxManifestSize bounds what ReadManifest decrypts (a manifest lists tables:
// megabytes at most).
const maxManifestSize = 64 << 20

// ReadManifest decrypts a manifest object written beside a backup. A wrong
// key is the keyring's error, naming the key needed.
func ReadManifest(r io.Reader, kr keys.Keyring) (*Manifest, error) {
	plain, _, err := format.NewReader(r, kr)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(plain, maxManifestSize))
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	return ParseManifest(b)
}
