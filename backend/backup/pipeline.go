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
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/timing"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgarchive"
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
	// Count says which tables' rows to record in the manifest (nil: all of
	// them). Rows are counted from pg_dump's stream as it passes (countRows),
	// which costs no query and no second read of any table.
	Count func(schema, name string) bool
	// Progress, if set, receives progress at most every ProgressEvery and at
	// every phase change.
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 250ms
	// Timeout stops a backup running longer (0: no limit); StallAfter fails
	// it when pg_dump sends nothing, or drops a storage that takes nothing,
	// for that long (0: DefaultStallAfter).
	Timeout    time.Duration
	StallAfter time.Duration
	// LockReportAfter: how long without a byte from pg_dump before the
	// progress says which session holds a lock the backup waits for (0:
	// DefaultLockReportAfter).
	LockReportAfter time.Duration
	Log             *slog.Logger // nil: slog.Default()
	// AuditWitness, if set, goes into the manifest (Manifest.Audit).
	AuditWitness *AuditWitness
	// Globals, if set, are the server's roles and tablespaces captured once
	// for several databases of one server (DumpGlobals); nil: Run captures
	// them itself.
	Globals *Globals
}

// Result is a finished backup: its manifest (whose Storages hold it) and the
// storages that do not hold it, with why.
type Result struct {
	Manifest *Manifest
	Failed   []TargetError
}

// TargetError is a storage a backup could not be written to.
type TargetError struct {
	Target Target
	Err    error
}

// StorageError is a storage that failed while the backup streamed to it:
// the storage is to blame, not the database or pg_dump.
type StorageError struct {
	Storage string // its name
	Err     error
}

func (e *StorageError) Error() string { return "storage " + e.Storage + ": " + e.Err.Error() }
func (e *StorageError) Unwrap() error { return e.Err }

// Phase is the step a backup is in.
type Phase string

const (
	PhaseConnecting Phase = "connecting"
	// PhaseCounting is no longer reported: rows are counted from the dump
	// stream during PhaseDumping. Kept for faces that know the name.
	PhaseCounting  Phase = "counting"
	PhaseDumping   Phase = "dumping"
	PhaseFinishing Phase = "finishing"
	PhaseDone      Phase = "done"
)

// Names of a backup's objects in a storage: a prefix the user chose and ids.
func ObjectName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".pgsafe")
}

// ManifestOf is the manifest's object name for a backup's object name.
func ManifestOf(object string) string {
	return strings.TrimSuffix(object, ".pgsafe") + ".manifest.pgsafe"
}

// ManifestName is the object name of a backup's manifest.
func ManifestName(prefix, databaseID string, id format.BackupID) string {
	return path.Join(prefix, databaseID, id.String()+".manifest.pgsafe")
}

// Run makes one backup. The backup is written to every target at once; a
// target that fails is dropped and the rest go on. It returns the manifest of
// a finished backup, written to every target that holds it, and the targets
// that failed; when no target holds it, or any other stage fails, it returns
// an error and no target holds a manifest for it (the backup object is removed
// where it was written: an object without a manifest is never listed as a
// backup).
func Run(ctx context.Context, job Job) (*Result, error) {
	if job.Key == nil || len(job.Targets) == 0 || job.DatabaseID == "" {
		return nil, errors.New("backup: a job needs a key, a database id and at least one storage")
	}
	if job.Log == nil {
		job.Log = slog.Default()
	}
	if job.StallAfter <= 0 {
		job.StallAfter = DefaultStallAfter
	}
	if job.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, job.Timeout, &TimeoutError{Limit: job.Timeout})
		defer cancel()
	}
	id := job.ID
	if id == (format.BackupID{}) {
		var err error
		if id, err = format.NewBackupID(); err != nil {
			return nil, err
		}
	}
	res, err := run(ctx, job, id)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%v)", cause, err) // the time limit, not "signal: killed"
		}
		return nil, fmt.Errorf("back up %s: %w", job.Label, err)
	}
	return res, nil
}

func run(ctx context.Context, job Job, id format.BackupID) (*Result, error) {
	log := job.Log
	prog := newProgressor(job.Progress, job.ProgressEvery)
	m := &Manifest{Kind: ManifestKind, Version: ManifestVersion, BackupID: id.String(),
		DatabaseID: job.DatabaseID, Label: job.Label, Started: time.Now().UTC(),
		FormatVersion: format.Version, KeyID: job.Key.ID().String(), ChunkSize: format.DefaultChunkSize,
		Object: ObjectName(job.Prefix, job.DatabaseID, id), Audit: job.AuditWitness}

	ph := timing.Start(log, "backup.Run", "backup", m.BackupID)
	prog.phase(PhaseConnecting)
	snap, err := openSnapshot(ctx, job.Conn)
	if err != nil {
		return nil, err
	}
	ph.Done("snapshot")
	defer snap.close(ctx)
	lockCtx, stopLockWatch := context.WithCancel(ctx)
	lockDone := make(chan struct{})
	go func() {
		defer close(lockDone)
		lockWatch(lockCtx, job.Conn, job.LockReportAfter, prog, log)
	}()
	defer func() {
		stopLockWatch()
		<-lockDone
	}()
	m.DatabaseName, m.ServerVersion, m.ServerMajor = snap.Database, snap.ServerVersion, snap.ServerMajor
	prog.estimate(snap.DataSize)
	client, err := pgtools.Pick(job.Clients, snap.ServerMajor)
	if err != nil {
		return nil, err
	}
	m.PgDumpVersion = client.Version.String()
	// The server's roles are read while pg_dump runs (pg_dumpall takes a
	// connection of its own): they add no wall time to the backup.
	globalsDone := make(chan *Globals, 1)
	if job.Globals != nil {
		globalsDone <- job.Globals
	} else {
		gctx, stopGlobals := context.WithCancel(ctx)
		defer stopGlobals() // a failed backup stops pg_dumpall too
		go func() { globalsDone <- DumpGlobals(gctx, job.Clients, job.Conn, snap.ServerMajor) }()
	}

	if m.Tables, err = snap.tables(ctx); err != nil {
		return nil, err
	}
	ph.Done("tables listed")

	prog.phase(PhaseDumping)
	log.Info("backup started", "backup", m.BackupID, "database", job.DatabaseID, "pg_dump", m.PgDumpVersion, "server", snap.ServerMajor)
	fan, err := stream(ctx, job, client, snap.ID, id, m, prog)
	if err != nil {
		return nil, explainLost(ctx, job.Conn, snap, err)
	}
	snap.close(ctx)
	ph.Done("pg_dump streamed")

	prog.phase(PhaseFinishing)
	globals := <-globalsDone
	ph.Done("waited for pg_dumpall")
	var sealedGlobals []byte
	if globals.Missing != "" {
		m.GlobalsMissing = globals.Missing
		log.Warn("backup without the server's roles", "database", job.DatabaseID, "reason", globals.Missing)
	} else if sealedGlobals, m.Globals, err = sealGlobals(job, id, globals); err != nil {
		removeAll(job.Targets, m.Object, job.Log)
		return nil, fmt.Errorf("encrypt the server's roles: %w", err)
	}
	m.Finished = time.Now().UTC()
	res := &Result{Manifest: m}
	var holders []Target
	for _, s := range fan.sinks {
		if err := s.failure(); err != nil {
			res.Failed = append(res.Failed, TargetError{Target: s.target, Err: err})
		} else {
			holders = append(holders, s.target)
			m.Storages = append(m.Storages, StorageCopy{StorageID: s.target.ID, Name: s.target.Name})
		}
	}
	written, failed := writeManifests(ctx, job, holders, id, m, sealedGlobals)
	ph.Done("manifests written")
	res.Failed = append(res.Failed, failed...)
	if len(written) == 0 {
		return nil, errors.Join(failedErrs(res.Failed)...)
	}
	if len(failed) > 0 { // the manifest names only the storages that hold it
		m.Storages = m.Storages[:0]
		for _, t := range written {
			m.Storages = append(m.Storages, StorageCopy{StorageID: t.ID, Name: t.Name})
		}
	}
	prog.phase(PhaseDone)
	for _, f := range res.Failed {
		log.Warn("a storage does not hold this backup", "backup", m.BackupID, "storage", f.Target.Name, "err", f.Err)
	}
	log.Info("backup finished", "backup", m.BackupID, "database", job.DatabaseID, "raw", m.RawSize, "stored", m.StoredSize, "storages", len(written))
	return res, nil
}

func failedErrs(fs []TargetError) []error {
	var out []error
	for _, f := range fs {
		out = append(out, f.Err)
	}
	return out
}

// stream runs pg_dump → format writer (zstd, encryption) → every target at
// once, watched for stalls. A failing target is dropped (its Put leaves
// nothing); any other failure cancels everything, and objects whose Put had
// already finished are deleted.
func stream(ctx context.Context, job Job, client pgtools.Install, snapshotID string, id format.BackupID, m *Manifest, prog *progressor) (*fanout, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	dump, err := pgtools.Dump(ctx, client.PgDump, job.Conn, pgtools.DumpOptions{
		Snapshot: snapshotID, OnTable: prog.table,
	})
	if err != nil {
		return nil, err
	}
	defer dump.Close()

	fan := newFanout(ctx, job.Targets, m.Object)
	prog.streaming(fan)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go watch(watchCtx, job.StallAfter, prog, fan, cancel)

	fail := func(err error) (*fanout, error) {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause // a stall says more than pg_dump's "signal: killed"
		}
		cancel(err)
		fan.finish(err)
		removeAll(job.Targets, m.Object, job.Log)
		return nil, err
	}
	hash := sha256.New()
	stored := &countWriter{onWrite: prog.stored}
	fw, err := format.NewWriter(io.MultiWriter(fan, hash, stored), job.Key, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		return fail(err)
	}
	rows := pgarchive.NewCounter()
	defer rows.Close()
	raw := &countReader{r: io.TeeReader(dump, rows), onRead: prog.raw}
	if _, err := io.Copy(fw, raw); err != nil {
		return fail(err)
	}
	if err := fw.Close(); err != nil {
		return fail(err)
	}
	if err := dump.Close(); err != nil { // pg_dump's exit status, after its last byte
		return fail(err)
	}
	stopWatch()
	fan.finish(nil)
	if len(fan.live()) == 0 {
		removeAll(job.Targets, m.Object, job.Log)
		return nil, fan.noneLeft()
	}
	for _, s := range fan.sinks { // a target that dropped out must not keep a partial object
		if s.failure() != nil {
			removeAll([]Target{s.target}, m.Object, job.Log)
		}
	}
	m.RowsCounted = countRows(m.Tables, rows, job.Count, job.Log)
	m.RawSize, m.StoredSize = raw.n, stored.n
	m.CompressedSize = payloadSize(stored.n, m.ChunkSize)
	m.SHA256 = hex.EncodeToString(hash.Sum(nil))
	return fan, nil
}

// payloadSize is the compressed size inside a v1 file of storedSize bytes:
// the file less its header and one tag per chunk (docs/FORMAT.md).
func payloadSize(storedSize int64, chunkSize int) int64 {
	body := storedSize - format.HeaderSize
	chunk := int64(chunkSize + format.TagSize)
	chunks := (body + chunk - 1) / chunk
	return body - chunks*format.TagSize
}

// writeManifests writes the globals object (when there is one) and then the
// encrypted manifest to every target holding the backup: the manifest comes
// last, so a manifest never names an object that is not there. A target
// whose globals or manifest cannot be written loses its backup object too
// (without a manifest it is not a backup).
func writeManifests(ctx context.Context, job Job, targets []Target, id format.BackupID, m *Manifest, globals []byte) (written []Target, failed []TargetError) {
	enc, err := sealManifest(job, id, m)
	name := ManifestName(job.Prefix, job.DatabaseID, id)
	for _, t := range targets {
		perr := err
		if perr == nil && m.Globals != nil {
			if gerr := t.Storage.Put(ctx, m.Globals.Object, bytes.NewReader(globals)); gerr != nil {
				perr = fmt.Errorf("write the roles object: %w", gerr)
			}
		}
		if perr == nil {
			perr = t.Storage.Put(ctx, name, bytes.NewReader(enc))
		}
		if perr != nil {
			failed = append(failed, TargetError{Target: t, Err: fmt.Errorf("write the manifest to storage %s: %w", t.Name, perr)})
			removeAll([]Target{t}, m.Object, job.Log)
			if m.Globals != nil {
				removeAll([]Target{t}, m.Globals.Object, job.Log)
			}
			continue
		}
		written = append(written, t)
	}
	return written, failed
}

func sealManifest(job Job, id format.BackupID, m *Manifest) ([]byte, error) {
	plain, err := MarshalManifest(m)
	if err != nil {
		return nil, err
	}
	var enc bytes.Buffer
	w, err := format.NewWriter(&enc, job.Key, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// removeAll deletes a failed backup's object from targets (best effort: an
// object without a manifest is not a backup, and retention sweeps it).
func removeAll(targets []Target, object string, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, t := range targets {
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
