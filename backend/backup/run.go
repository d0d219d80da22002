package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
)

// RunKind marks a run manifest's JSON: the one file of a server entry's run
// that lists every database's backup of that run (each is a backup of its
// own, with its own manifest).
const RunKind = "pgsafe-run"

// RunVersion is the version of the run manifest's JSON shape.
const RunVersion = 1

// RunManifest records one run of a server entry: which databases it found
// and the backup of each, the databases no longer on the server, and the
// server's globals. It is stored in the settings database (the run's
// history record) and, encrypted, in every storage of the entry
// (RunObjectName).
type RunManifest struct {
	Kind    string `json:"kind"` // RunKind
	Version int    `json:"version"`

	RunID      string `json:"run_id"`      // hex of the run's ID (its history record's ID)
	DatabaseID string `json:"database_id"` // PgSafe's id of the server entry
	Label      string `json:"label"`       // the user's name for the server entry

	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`

	Databases []RunDatabase `json:"databases"`
	// Gone are databases an earlier run backed up that are no longer on the
	// server, or now excluded: their backups are kept.
	Gone []string `json:"gone,omitempty"`
	// Globals names the server's roles and tablespaces (pg_dumpall
	// --globals-only --no-role-passwords), captured once for the run: the
	// object beside the run manifest (each database's backup holds the same
	// globals beside it too, so that each restores alone). GlobalsMissing
	// says why they could not be read.
	Globals        *GlobalsInfo `json:"globals,omitempty"`
	GlobalsMissing string       `json:"globals_missing,omitempty"`
}

// RunDatabase is one database of a run.
type RunDatabase struct {
	Database string `json:"database"` // its name on the server
	Entry    string `json:"entry"`    // PgSafe's name for it ("server/database")
	EntryID  string `json:"entry_id"` // PgSafe's id of its entry
	New      bool   `json:"new,omitempty"`
	BackupID string `json:"backup_id,omitempty"`
	Object   string `json:"object,omitempty"` // its backup's object name
	// RawSize and StoredSize are its backup's (pg_dump's archive, the
	// encrypted file).
	RawSize    int64  `json:"raw_size,omitempty"`
	StoredSize int64  `json:"stored_size,omitempty"`
	Status     string `json:"status"`          // succeeded, failed, cancelled
	Error      string `json:"error,omitempty"` // why it failed, or which storages lack it
}

// Failed lists the run's databases whose backup did not succeed.
func (m *RunManifest) Failed() []RunDatabase {
	var out []RunDatabase
	for _, d := range m.Databases {
		if d.Status != "succeeded" {
			out = append(out, d)
		}
	}
	return out
}

// RunObjectName is the object name of a run's manifest.
func RunObjectName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".run.pgsafe")
}

// ParseRunManifest decodes a run manifest and checks it is one.
func ParseRunManifest(b []byte) (*RunManifest, error) {
	var m RunManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not a PgSafe run manifest: %w", err)
	}
	if m.Kind != RunKind {
		return nil, fmt.Errorf("not a PgSafe run manifest (kind %q)", m.Kind)
	}
	if m.Version > RunVersion {
		return nil, fmt.Errorf("the run manifest was written by a newer PgSafe (version %d): update PgSafe", m.Version)
	}
	return &m, nil
}

// IsRunManifest says whether a recorded manifest is a run's.
func IsRunManifest(b []byte) bool {
	var k struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(b, &k) == nil && k.Kind == RunKind
}

// WriteRunGlobals encrypts a run's globals and writes them beside its run
// manifest on every target, before it; it returns what the run manifest
// names, or the targets it could not be written to.
func WriteRunGlobals(ctx context.Context, key *keys.MasterKey, targets []Target, prefix, databaseID string, id format.BackupID, g *Globals) (*GlobalsInfo, []TargetError) {
	enc, info, err := sealGlobals(Job{Key: key, Prefix: prefix, DatabaseID: databaseID}, id, g)
	var failed []TargetError
	for _, t := range targets {
		perr := err
		if perr == nil {
			perr = t.Storage.Put(ctx, info.Object, bytes.NewReader(enc))
		}
		if perr != nil {
			failed = append(failed, TargetError{Target: t, Err: fmt.Errorf("write the server's roles to storage %s: %w", t.Name, perr)})
		}
	}
	if len(failed) == len(targets) {
		return nil, failed
	}
	return info, failed
}

// WriteRun encrypts the run manifest (the backup file format, the run's ID
// in its header) and writes it to every target. It returns the targets it
// could not be written to, with why.
func WriteRun(ctx context.Context, key *keys.MasterKey, targets []Target, prefix string, id format.BackupID, m *RunManifest) []TargetError {
	var failed []TargetError
	plain, err := json.MarshalIndent(m, "", "  ")
	var enc bytes.Buffer
	if err == nil {
		var w io.WriteCloser
		if w, err = format.NewWriter(&enc, key, format.Header{BackupID: id, Compression: format.CompressionZstd}); err == nil {
			if _, err = w.Write(plain); err == nil {
				err = w.Close()
			}
		}
	}
	name := RunObjectName(prefix, m.DatabaseID, id)
	for _, t := range targets {
		perr := err
		if perr == nil {
			perr = t.Storage.Put(ctx, name, bytes.NewReader(enc.Bytes()))
		}
		if perr != nil {
			failed = append(failed, TargetError{Target: t, Err: fmt.Errorf("write the run manifest to storage %s: %w", t.Name, perr)})
		}
	}
	return failed
}

// RunWrittenTo counts the targets that hold a run's manifest: those not
// among failed (a target may fail more than once).
func RunWrittenTo(failed []TargetError, targets []Target) int {
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.Target.ID] = true
	}
	return len(targets) - len(bad)
}
