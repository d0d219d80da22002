package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// Storage is what a backup needs of a storage: an all-or-nothing Put (a
// failed or cancelled Put leaves no object) and Delete.
type Storage interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Delete(ctx context.Context, name string) error
}

// Target is one storage a backup goes to.
type Target struct {
	ID      string // PgSafe's id of the storage entry
	Name    string // the user's name for it, for messages
	Storage Storage
}

// Job is one backup to make.
type Job struct {
	// ID is the new backup's ID; zero: Run draws one (format.NewBackupID).
	ID         format.BackupID
	DatabaseID string       // PgSafe's id of the database entry (object names use it)
	Label      string       // the user's name for the database, for messages and the manifest
	Conn       pgtools.Conn // read-only credentials
	// Clients are the pg_dump installs to choose from (pgtools.Discover); the
	// closest one at least as new as the server is used.
	Clients []pgtools.Install
	Key     *keys.MasterKey
	Targets []Target
	Prefix  string // user-chosen object name prefix, may be ""
	// Count says which tables' rows to count (nil: all of them).
	Count func(schema, name string) bool
	// Progress, if set, receives progress at most every ProgressEvery and at
	// every phase change.
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 250ms
	Log           *slog.Logger  // nil: slog.Default()
}

// Phase is the step a backup is in.
type Phase string

const (
	PhaseConnecting Phase = "connecting"
	PhaseCounting   Phase = "counting"
	PhaseDumping    Phase = "dumping"
	PhaseFinishing  Phase = "finishing"
	PhaseDone       Phase = "done"
)

// Progress is a backup's progress.
type Progress struct {
	Phase       Phase  `json:"phase"`
	Table       string `json:"table,omitempty"` // the table pg_dump is dumping
	RawBytes    int64  `json:"rawBytes"`        // read from pg_dump so far
	StoredBytes int64  `json:"storedBytes"`     // written to each storage so far
}

// Names of a backup's objects in a storage: a prefix the user chose and ids.
func ObjectName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".pgsafe")
}

// ManifestName is the object name of a backup's manifest.
func ManifestName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".manifest.pgsafe")
}

// Run makes one backup. It returns the manifest of a finished backup, written
// to every target; on any error no target holds a manifest for it, and the
// backup object is removed where it was written (an object without a
// manifest is never listed as a backup).
func Run(ctx context.Context, job Job) (*Manifest, error) {
	if job.Key == nil || len(job.Targets) == 0 || job.DatabaseID == "" {
		return nil, errors.New("backup: a job needs a key, a database id and at least one storage")
	}
	log := job.Log
	if log == nil {
		log = slog.Default()
	}
	id := job.ID
	if id == (format.BackupID{}) {
		var err error
		if id, err = format.NewBackupID(); err != nil {
			return nil, err
		}
	}
	prog := newProgressor(job.Progress, job.ProgressEvery)
	m := &Manifest{Kind: ManifestKind, Version: ManifestVersion, BackupID: id.String(),
		DatabaseID: job.DatabaseID, Label: job.Label, Started: time.Now().UTC(),
		FormatVersion: format.Version, KeyID: job.Key.ID().String(), ChunkSize: format.DefaultChunkSize,
		Object: ObjectName(job.Prefix, job.DatabaseID, id)}

	prog.phase(PhaseConnecting)
	snap, err := openSnapshot(ctx, job.Conn)
	if err != nil {
		return nil, err
	}
	defer snap.close(ctx)
	m.DatabaseName, m.ServerVersion, m.ServerMajor = snap.Database, snap.ServerVersion, snap.ServerMajor
	client, err := pgtools.Pick(job.Clients, snap.ServerMajor)
	if err != nil {
		return nil, err
	}
	m.PgDumpVersion = client.Version.String()

	prog.phase(PhaseCounting)
	if m.Tables, err = snap.tables(ctx, job.Count); err != nil {
		return nil, err
	}
	m.RowsCounted = true
	for _, t := range m.Tables {
		m.RowsCounted = m.RowsCounted && t.Counted
	}

	prog.phase(PhaseDumping)
	log.Info("backup started", "backup", m.BackupID, "database", job.DatabaseID, "pg_dump", m.PgDumpVersion, "server", snap.ServerMajor)
	if err := stream(ctx, job, client, snap.ID, id, m, prog); err != nil {
		return nil, fmt.Errorf("back up %s: %w", job.Label, err)
	}
	snap.close(ctx)

	prog.phase(PhaseFinishing)
	m.Finished = time.Now().UTC()
	for _, t := range job.Targets {
		m.Storages = append(m.Storages, StorageCopy{StorageID: t.ID, Name: t.Name})
	}
	if err := writeManifests(ctx, job, id, m); err != nil {
		removeAll(job, m.Object, log)
		return nil, fmt.Errorf("back up %s: %w", job.Label, err)
	}
	prog.phase(PhaseDone)
	log.Info("backup finished", "backup", m.BackupID, "database", job.DatabaseID, "raw", m.RawSize, "stored", m.StoredSize)
	return m, nil
}

// stream runs pg_dump → format writer (zstd, encryption) → every target at
// once. On error, every Put is cancelled (leaving nothing) and objects whose
// Put had already finished are deleted.
func stream(ctx context.Context, job Job, client pgtools.Install, snapshotID string, id format.BackupID, m *Manifest, prog *progressor) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	dump, err := pgtools.Dump(ctx, client.PgDump, job.Conn, pgtools.DumpOptions{
		Snapshot: snapshotID, OnTable: prog.table,
	})
	if err != nil {
		return err
	}
	defer dump.Close()

	// One pipe per target; each Put reads its pipe. A Put that fails closes
	// its pipe with its error, which fails the writes below.
	var wg sync.WaitGroup
	putErrs := make([]error, len(job.Targets))
	pipes := make([]*io.PipeWriter, len(job.Targets))
	writers := make([]io.Writer, 0, len(job.Targets)+2)
	for i, t := range job.Targets {
		pr, pw := io.Pipe()
		pipes[i] = pw
		writers = append(writers, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := t.Storage.Put(ctx, m.Object, pr)
			if err != nil {
				err = fmt.Errorf("storage %s: %w", t.Name, err)
				cancel(err)
			}
			putErrs[i] = err
			pr.CloseWithError(errOr(err, errors.New("the storage stopped reading")))
		}()
	}
	finish := func(streamErr error) error {
		if streamErr != nil {
			cancel(streamErr)
		}
		for _, pw := range pipes {
			pw.CloseWithError(streamErr) // nil: a clean end of stream
		}
		wg.Wait()
		if streamErr == nil {
			streamErr = errors.Join(putErrs...)
		} else if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			streamErr = cause // a storage's own error says more than the broken pipe
		}
		if streamErr != nil {
			removeAll(job, m.Object, job.Log)
		}
		return streamErr
	}

	hash := sha256.New()
	stored := &countWriter{onWrite: prog.stored}
	writers = append(writers, hash, stored)
	fw, err := format.NewWriter(io.MultiWriter(writers...), job.Key, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		return finish(err)
	}
	raw := &countReader{r: dump, onRead: prog.raw}
	if _, err := io.Copy(fw, raw); err != nil {
		return finish(err)
	}
	if err := fw.Close(); err != nil {
		return finish(err)
	}
	if err := finish(nil); err != nil {
		return err
	}
	m.RawSize, m.StoredSize = raw.n, stored.n
	m.CompressedSize = payloadSize(stored.n, m.ChunkSize)
	m.SHA256 = hex.EncodeToString(hash.Sum(nil))
	return nil
}

// payloadSize is the compressed size inside a v1 file of storedSize bytes:
// the file less its header and one tag per chunk (docs/FORMAT.md).
func payloadSize(storedSize int64, chunkSize int) int64 {
	body := storedSize - format.HeaderSize
	chunk := int64(chunkSize + format.TagSize)
	chunks := (body + chunk - 1) / chunk
	return body - chunks*format.TagSize
}

// writeManifests encrypts the manifest and writes it to every target.
func writeManifests(ctx context.Context, job Job, id format.BackupID, m *Manifest) error {
	plain, err := MarshalManifest(m)
	if err != nil {
		return err
	}
	var enc bytes.Buffer
	w, err := format.NewWriter(&enc, job.Key, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		return err
	}
	if _, err := w.Write(plain); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	name := ManifestName(job.Prefix, job.DatabaseID, id)
	for i, t := range job.Targets {
		if err := t.Storage.Put(ctx, name, bytes.NewReader(enc.Bytes())); err != nil {
			for _, done := range job.Targets[:i] {
				done.Storage.Delete(context.WithoutCancel(ctx), name)
			}
			return fmt.Errorf("write the manifest to storage %s: %w", t.Name, err)
		}
	}
	return nil
}

// removeAll deletes a failed backup's object from every target (best effort:
// an object without a manifest is not a backup, and retention sweeps it).
func removeAll(job Job, object string, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, t := range job.Targets {
		if err := t.Storage.Delete(ctx, object); err != nil && !isNotFound(err) {
			log.Warn("could not remove the object of a failed backup", "storage", t.Name, "object", object, "err", err)
		}
	}
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
