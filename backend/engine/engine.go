// Package engine is the one API both faces of PgSafe (the desktop UI and the
// `pgsafe` command line) call. It opens the master key, the settings store
// and the audit log, and wires the lower packages together: connections and
// the read-only audit (pg), tunnels, storages, backups, verification and
// restores. It holds the policy (what is audited, what is refused); the
// packages below hold the mechanics.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/internal/timing"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/pgtools/scratch"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Options say how to open the engine.
type Options struct {
	// Home is the settings directory; empty: paths.Home() (PGSAFE_HOME or the
	// OS config dir).
	Home string
	// KeyFile is an unprotected key file or a recovery kit to use instead of
	// this machine's key (--key-file; PGSAFE_KEY_FILE when empty).
	KeyFile string
	// Passphrase asks for a protected key's passphrase; nil fails such keys.
	Passphrase keys.PassphraseFunc
	// CreateKey creates this machine's master key in the keychain on first
	// run (the app does; commands that only read do not).
	CreateKey bool
	// AcceptModified accepts a settings database changed outside PgSafe as
	// it now is (store.Accept), for a user who restored or edited it
	// themselves; the acceptance is audited (settings.accepted).
	AcceptModified bool
	// StallAfter: see backup.Job.StallAfter (0: backup.DefaultStallAfter).
	StallAfter time.Duration
	// DesktopNotifications sends failures to this computer's notification
	// area even when no desktop notifier is configured (the app sets it).
	DesktopNotifications bool
	// NotifyBackoff: the waits between notification retries (nil: the
	// notify package's default, 2 s, 10 s, 60 s; tests shorten it).
	NotifyBackoff []time.Duration
	Log           *slog.Logger
	// DrillServerDirs are the only folders searched for PostgreSQL server
	// programs for drills without a drill server (nil: the pg_dump folder
	// setting, then this OS's well-known places and PATH; tests narrow it).
	DrillServerDirs []string
	// DrillUser is the unprivileged account throwaway drill servers run as
	// when PgSafe runs as root (PostgreSQL refuses root); "" reads
	// PGSAFE_DRILL_USER. Ignored when not root.
	DrillUser string
}

// Engine is an open PgSafe: key, settings and audit log.
type Engine struct {
	home      string
	key       *keys.MasterKey
	keySource keys.Source
	store     *store.Store
	audit     Auditor
	auditLog  *audit.Log
	// prevKeysHook is the keys package's audit hook before this engine set
	// its own; Close puts it back.
	prevKeysHook keys.AuditFunc
	log          *slog.Logger
	actor        string
	stallAfter   time.Duration
	// Drills without a drill server: see Options.
	drillServerDirs []string
	drillUser       string

	mu      sync.Mutex
	running map[int64]*Running // backups in progress, by database id

	stream eventStream // the job event stream (Subscribe)

	tools knownTools // what each pg_dump said its version was (clients)

	// Work the engine starts on its own (drills after a backup) runs under
	// bgCtx; Close cancels it and waits.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup

	notifyMu       sync.Mutex
	dispatcher     *notify.Dispatcher // built on the first event
	notifyClosed   bool
	desktopDefault bool
	notifyBackoff  []time.Duration
	noDesktopOnce  sync.Once
}

// Open opens the master key (see keys.Open), then the settings database.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	home := opts.Home
	if home == "" {
		h, err := paths.EnsureHome()
		if err != nil {
			return nil, err
		}
		home = h
	}
	ph := timing.Start(log, "engine open")
	mk, src, err := keys.Open(ctx, keys.Options{Home: home, KeyFile: opts.KeyFile, Passphrase: opts.Passphrase, CreateIfMissing: opts.CreateKey})
	if err != nil {
		return nil, err
	}
	ph.Done("master key")
	openStore := store.Open
	if opts.AcceptModified {
		openStore = store.Accept
	}
	st, err := openStore(ctx, filepath.Join(home, store.FileName), mk)
	if err != nil {
		mk.Wipe()
		return nil, err
	}
	ph.Done("settings database")
	e := &Engine{home: home, key: mk, keySource: src, store: st, log: log, actor: osUser(),
		stallAfter: opts.StallAfter, running: map[int64]*Running{},
		drillServerDirs: opts.DrillServerDirs, drillUser: opts.DrillUser}
	e.bgCtx, e.bgCancel = context.WithCancel(context.Background())
	// A parallel restore that died left its decrypted archive behind: remove it.
	for _, d := range restore.RemoveStale(filepath.Join(home, "tmp")) {
		log.Warn("removed the temporary files of an interrupted restore", "dir", d)
	}
	// A drill killed midway left its throwaway server: stop it, remove it.
	for _, d := range scratch.Sweep("") {
		log.Warn("removed the throwaway server of an interrupted drill", "dir", d)
	}
	ph.Done("stale restores and drills")
	if e.audit, err = openAudit(ctx, e); err != nil {
		st.Close()
		mk.Wipe()
		return nil, err
	}
	ph.Done("audit log")
	// A key created by this Open (first run) was created before the audit
	// log could be opened: record it now.
	if src.Created {
		id := mk.ID().String()
		if err := e.record(ctx, Event{Action: keys.EventKeyCreated, Outcome: audit.OK, Target: id,
			Fields: map[string]string{"key_id": id, "source": string(src.Kind)}}); err != nil {
			e.Close()
			return nil, fmt.Errorf("audit the creation of master key %s: %w", id, err)
		}
	}
	if opts.AcceptModified {
		if err := e.record(ctx, Event{Action: "settings.accepted", Outcome: audit.OK,
			Fields: map[string]string{"path": st.Path()}}); err != nil {
			e.Close()
			return nil, fmt.Errorf("audit accepting the settings database: %w", err)
		}
	}
	e.startNotifications(opts)
	e.recoverInterrupted(ctx)
	ph.Done("interrupted jobs")
	ph.End()
	return e, nil
}

// background runs fn in its own goroutine under the engine's lifetime.
func (e *Engine) background(fn func(ctx context.Context)) {
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		fn(e.bgCtx)
	}()
}

// Wait waits for the work the engine started on its own (drills after a
// backup) to end.
func (e *Engine) Wait() { e.bg.Wait() }

// Close stops the engine's own work, closes the settings database and
// forgets the key.
func (e *Engine) Close() error {
	e.bgCancel()
	e.bg.Wait()
	e.closeNotifications()
	if e.auditLog != nil {
		keys.Audit = e.prevKeysHook
	}
	err := e.store.Close()
	e.key.Wipe()
	return err
}

// Home is the settings directory.
func (e *Engine) Home() string { return e.home }

// KeyID is the master key's ID.
func (e *Engine) KeyID() keys.KeyID { return e.key.ID() }

// KeySource says where the master key came from.
func (e *Engine) KeySource() keys.Source { return e.keySource }

// Store is the settings database (for the audit log and tests).
func (e *Engine) Store() *store.Store { return e.store }

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// ErrNotFound: no database, storage or backup of that name or ID.
var ErrNotFound = errors.New("not found")

// NotFoundError is a database, storage or notifier no one has by that name.
// It is ErrNotFound; Kind is the CLI's word for it ("db", "storage",
// "notifier"), so the CLI can say how to list them.
type NotFoundError struct{ Kind, Name string }

func (e *NotFoundError) Error() string {
	word := e.Kind
	if word == "db" {
		word = "database"
	}
	return fmt.Sprintf("not found: no %s named %q", word, e.Name)
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(kind, name string) error { return &NotFoundError{Kind: kind, Name: name} }

// ExportKit writes a recovery kit of the master key to path (audited first:
// if the audit log cannot record it, nothing is written).
func (e *Engine) ExportKit(ctx context.Context, pass *keys.Passphrase, path string) (*keys.Kit, error) {
	return keys.ExportKit(ctx, e.key, pass, path)
}
