package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/filelock"
	"github.com/pgsafe/pgsafe/backend/pgtools"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/store"
)

// dbLock is a database's backup lock, <home>/locks/db-<id>.lock, held by the
// process running a backup of it. It makes "one backup of a database at a
// time" hold across the processes sharing a settings directory (the app,
// `pgsafe run`, a `pgsafe backup`), and tells a backup left running by a
// process that has ended (its lock is free) from one running now. The system
// drops the lock when the process ends, however it ends.
type dbLock struct{ f *os.File }

// lockHolder is what the process holding a database's lock wrote in it.
type lockHolder struct {
	PID      int
	BackupID string
}

func dbLockPath(home string, dbID int64) string {
	return filepath.Join(home, "locks", "db-"+strconv.FormatInt(dbID, 10)+".lock")
}

// tryLockDatabase takes database dbID's lock without waiting and writes h in
// it. If another process (or another engine of this one) holds it, it
// returns nil and what the holder wrote (nil if it could not be read).
func tryLockDatabase(home string, dbID int64, h lockHolder) (*dbLock, *lockHolder, error) {
	p := dbLockPath(home, dbID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create the lock folder: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open a database lock: %w", err)
	}
	if err := filelock.TryLock(f); err != nil {
		f.Close()
		if !errors.Is(err, filelock.ErrHeld) {
			return nil, nil, fmt.Errorf("lock database %d: %w", dbID, err)
		}
		return nil, readLockHolder(p), nil
	}
	body := fmt.Sprintf("pid %d\nbackup %s\n", h.PID, h.BackupID)
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(body), 0) // for messages and the interrupted-run check; the lock is what counts
	}
	return &dbLock{f: f}, nil, nil
}

// readLockHolder reads what a lock's holder wrote; nil if unreadable (on
// Windows the locked byte cannot be read) or empty (the holder is writing).
func readLockHolder(p string) *lockHolder {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var h lockHolder
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "backup":
			h.BackupID = v
		}
	}
	if h.PID == 0 {
		return nil
	}
	return &h
}

// release empties the lock file and drops the lock.
func (l *dbLock) release() {
	if l == nil {
		return
	}
	l.f.Truncate(0)
	l.f.Close()
}

// heldElsewhere is the error of a backup refused because another process
// runs one of the same database.
func heldElsewhere(name string, h *lockHolder) error {
	if h == nil {
		return fmt.Errorf("a backup of %s is already running in another PgSafe process", name)
	}
	return fmt.Errorf("a backup of %s is already running in another PgSafe process (pid %d)", name, h.PID)
}

// recoverInterrupted runs at engine open: it removes the passfiles of
// PgSafe processes that have ended, records the backups they left running as
// failed (InterruptedError), and sweeps those backups' temporary objects
// from their storages in the background (remote storages may be slow).
func (e *Engine) recoverInterrupted(ctx context.Context) {
	for _, p := range pgtools.RemoveStalePassfiles() {
		e.log.Warn("removed a temporary passfile left by a PgSafe process that ended", "dir", p)
	}
	running, err := e.store.Backups(ctx, store.BackupFilter{Status: store.StatusRunning})
	if err != nil {
		e.log.Error("look for backups left running by a process that ended", "err", err)
		return
	}
	byDB := map[int64][]store.Backup{}
	for _, b := range running {
		byDB[b.DatabaseID] = append(byDB[b.DatabaseID], b)
	}
	for dbID, rows := range byDB {
		lock, holder, err := tryLockDatabase(e.home, dbID, lockHolder{PID: os.Getpid()})
		if err != nil {
			e.log.Error("look for backups left running by a process that ended", "database_id", dbID, "err", err)
			continue
		}
		var dead []store.Backup
		for _, b := range rows {
			// With the lock free, no process runs a backup of this database
			// (a backup's record is created after its lock is taken, and
			// finished before it is released); with it held, only the
			// holder's backup runs.
			if lock != nil || (holder != nil && holder.BackupID != "" && b.ID != holder.BackupID) {
				dead = append(dead, b)
			}
		}
		storageIDs := map[int64]bool{}
		for _, b := range dead {
			e.markInterrupted(ctx, b)
			for _, c := range b.Copies {
				storageIDs[c.StorageID] = true
			}
		}
		lock.release()
		if len(dead) > 0 {
			// Not cancelled by Close, which waits for it: a command that
			// opens the engine for a moment still finishes the sweep.
			e.background(func(bg context.Context) {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(bg), sweepAtOpenTimeout)
				defer cancel()
				e.sweepAfterInterrupted(ctx, dbID, storageIDs)
			})
		}
	}
}

func (e *Engine) markInterrupted(ctx context.Context, b store.Backup) {
	if _, err := e.store.MarkInterrupted(ctx, b.ID, time.Now()); err != nil {
		e.log.Error("record a backup left running by a process that ended", "backup", b.ID, "err", err)
		return
	}
	e.log.Warn("a backup was left running by a PgSafe process that ended: recorded as interrupted",
		"backup", b.ID, "database", b.DatabaseName, "started", b.StartedAt)
	if err := e.record(ctx, Event{Action: "backup.failed", Outcome: "failed", Target: b.DatabaseName,
		Fields: map[string]string{"backup_id": b.ID, "interrupted": "true"}, Message: store.InterruptedError}); err != nil {
		e.log.Error("audit an interrupted backup", "backup", b.ID, "err", err)
	}
}

// sweepAfterInterrupted sweeps the temporary objects of database dbID's
// interrupted backups from its storages and those its copies were on.
func (e *Engine) sweepAfterInterrupted(ctx context.Context, dbID int64, storageIDs map[int64]bool) {
	if c, err := e.store.DatabaseCredentials(ctx, dbID); err == nil {
		for _, id := range c.StorageIDs {
			storageIDs[id] = true
		}
	}
	ids := make([]int64, 0, len(storageIDs))
	for id := range storageIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		targets, closeAll, err := e.targets(ctx, []int64{id})
		if err != nil {
			e.log.Warn("could not open a storage to remove an interrupted backup's temporary files", "storage_id", id, "err", err)
			continue
		}
		e.sweepTemps(ctx, dbID, targets)
		closeAll()
	}
}

// sweepAtOpenTimeout bounds the sweep of interrupted backups' temporary
// objects started at engine open.
const sweepAtOpenTimeout = 30 * time.Second

// Temporary objects whose backup is not in this history (another machine's
// backup to a shared storage, or an older PgSafe's temporary file naming no
// backup) are left alone until they are this old.
const (
	staleForeignTemp = 7 * 24 * time.Hour
	staleUnnamedTemp = 24 * time.Hour
)

// sweepTemps removes from each target the temporary objects under database
// dbID's folder that no running backup is writing: those of a backup this
// history has as finished (failed, interrupted, …), and old unknown ones.
func (e *Engine) sweepTemps(ctx context.Context, dbID int64, targets []backup.Target) {
	now := time.Now()
	stale := func(t storage.Temp) bool {
		id, ok := backupIDOf(t.Object)
		if !ok {
			return now.Sub(t.Modified) > staleUnnamedTemp
		}
		b, err := e.store.Backup(ctx, id)
		switch {
		case err == nil:
			return b.Status != store.StatusRunning
		case errors.Is(err, store.ErrNotFound):
			return now.Sub(t.Modified) > staleForeignTemp
		}
		return false
	}
	prefix := strconv.FormatInt(dbID, 10) + "/"
	for _, t := range targets {
		sw, ok := t.Storage.(storage.TempSweeper)
		if !ok {
			continue
		}
		removed, err := sw.RemoveTemp(ctx, prefix, stale)
		for _, r := range removed {
			e.log.Info("removed what an unfinished backup left in a storage", "storage", t.Name, "temp", r.Name)
		}
		if err != nil {
			e.log.Warn("could not remove what unfinished backups left in a storage", "storage", t.Name, "err", err)
		}
	}
}

// backupIDOf reads the backup ID from an object name ("12/<id>.pgsafe",
// "12/<id>.manifest.pgsafe", "12/<id>.globals.pgsafe").
func backupIDOf(object string) (string, bool) {
	base := path.Base(object)
	for _, suffix := range []string{".manifest.pgsafe", ".globals.pgsafe", ".pgsafe"} {
		if id, ok := strings.CutSuffix(base, suffix); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// sweepAfterBackup sweeps the database's storages once its backup has ended
// (under its lock), unless the backup was cancelled: a user who stops it
// wants PgSafe to stop.
func (e *Engine) sweepAfterBackup(ctx context.Context, dbID int64, targets []backup.Target) {
	if ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	e.sweepTemps(ctx, dbID, targets)
}
