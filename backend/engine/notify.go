package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/notify"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Notifications: the engine raises events (backup failed or succeeded, a
// verification or drill failed, a database down or up) and a notify.Dispatcher
// delivers them in the background to every enabled notifier, retrying; a
// delivery that finally fails is logged and audited, and never holds up a
// backup. See docs/NOTIFY.md.

// startNotifications keeps the notification options; the dispatcher and
// its notifiers are built on the first event (most engine runs, such as a
// listing on the command line, never raise one).
func (e *Engine) startNotifications(opts Options) {
	e.desktopDefault = opts.DesktopNotifications
	e.notifyBackoff = opts.NotifyBackoff
}

// dispatch is the dispatcher, built on first use; nil once closed.
func (e *Engine) dispatch() *notify.Dispatcher {
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	if e.dispatcher == nil && !e.notifyClosed {
		e.dispatcher = notify.NewDispatcher(e.loadNotifiers(context.Background()), notify.Options{
			Backoff: e.notifyBackoff, Log: e.log, OnResult: e.notificationResult})
	}
	return e.dispatcher
}

// notificationResult audits a delivery that finally failed.
func (e *Engine) notificationResult(r notify.Result) {
	if r.Err == nil || r.Kind == notify.EventTest {
		return
	}
	if errors.Is(r.Err, notify.ErrNoDesktop) {
		e.noDesktopOnce.Do(func() {
			e.log.Warn("this system shows no desktop notifications; add an email or chat notifier to hear about failures")
		})
		return
	}
	if err := e.record(context.Background(), Event{Action: "notification.failed", Outcome: "failed", Target: r.Notifier,
		Fields: map[string]string{"event": r.Kind, "attempts": strconv.Itoa(r.Attempts)}, Message: r.Err.Error()}); err != nil {
		e.log.Error("audit a failed notification", "err", err)
	}
}

// loadNotifiers builds the enabled notifiers (and the desktop one the app
// wants by default); broken ones are logged and left out.
func (e *Engine) loadNotifiers(ctx context.Context) []notify.Notifier {
	list, err := e.store.Notifiers(ctx)
	if err != nil {
		e.log.Error("load notifiers", "err", err)
		return nil
	}
	var cfgs []store.NotifierConfig
	haveDesktop := false
	for _, n := range list {
		c, err := e.store.NotifierCredentials(ctx, n.ID)
		if err != nil {
			e.log.Error("load a notifier", "notifier", n.Name, "err", err)
			continue
		}
		haveDesktop = haveDesktop || c.Kind == store.NotifierDesktop
		cfgs = append(cfgs, c)
	}
	if e.desktopDefault && !haveDesktop {
		cfgs = append(cfgs, store.NotifierConfig{Name: "desktop", Kind: store.NotifierDesktop, Enabled: true})
	}
	ns, err := notify.FromConfigs(cfgs)
	if err != nil {
		e.log.Error("some notifiers cannot send (fix them in Notifications)", "err", err)
	}
	return ns
}

// reloadNotifiers takes changed notifier settings into a running dispatcher
// (one not built yet reads them when it is).
func (e *Engine) reloadNotifiers(ctx context.Context) {
	e.notifyMu.Lock()
	d := e.dispatcher
	e.notifyMu.Unlock()
	if d != nil {
		d.Replace(e.loadNotifiers(ctx))
	}
}

// notify hands ev to the dispatcher; it never blocks.
func (e *Engine) notify(ev notify.Event) {
	if d := e.dispatch(); d != nil {
		d.Notify(ev)
	}
}

func (e *Engine) closeNotifications() {
	e.notifyMu.Lock()
	d := e.dispatcher
	e.notifyClosed = true
	e.notifyMu.Unlock()
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		e.log.Warn("notifications still waiting at exit were not sent", "err", err)
	}
}

// AddNotifier checks and stores a notifier (its secrets sealed) and starts
// sending to it.
func (e *Engine) AddNotifier(ctx context.Context, c store.NotifierConfig) (int64, error) {
	if _, err := e.notifierByName(ctx, c.Name); err == nil {
		return 0, fmt.Errorf("a notifier named %q exists already: choose another name", c.Name)
	}
	if _, err := notify.New(c); err != nil {
		return 0, err
	}
	id, err := e.store.CreateNotifier(ctx, c)
	if err != nil {
		return 0, err
	}
	e.reloadNotifiers(ctx)
	return id, e.record(ctx, Event{Action: "notifier.created", Target: c.Name, Fields: map[string]string{"id": strconv.FormatInt(id, 10), "kind": c.Kind}})
}

// Notifiers lists the stored notifiers, secrets withheld.
func (e *Engine) Notifiers(ctx context.Context) ([]store.Notifier, error) {
	return e.store.Notifiers(ctx)
}

func (e *Engine) notifierByName(ctx context.Context, name string) (store.Notifier, error) {
	list, err := e.store.Notifiers(ctx)
	if err != nil {
		return store.Notifier{}, err
	}
	for _, n := range list {
		if n.Name == name {
			return n, nil
		}
	}
	return store.Notifier{}, notFound("notifier", name)
}

// RemoveNotifier deletes the named notifier.
func (e *Engine) RemoveNotifier(ctx context.Context, name string) error {
	n, err := e.notifierByName(ctx, name)
	if err != nil {
		return err
	}
	if err := e.store.DeleteNotifier(ctx, n.ID); err != nil {
		return err
	}
	e.reloadNotifiers(ctx)
	return e.record(ctx, Event{Action: "notifier.deleted", Target: name})
}

// TestNotifier sends a test notification through the named notifier now,
// once, and says what happened.
func (e *Engine) TestNotifier(ctx context.Context, name string) error {
	n, err := e.notifierByName(ctx, name)
	if err != nil {
		return err
	}
	c, err := e.store.NotifierCredentials(ctx, n.ID)
	if err != nil {
		return err
	}
	return e.TestNotifierConfig(ctx, c)
}

// TestNotifierConfig sends a test notification through a notifier that is
// not saved yet (the form's "Send test").
func (e *Engine) TestNotifierConfig(ctx context.Context, c store.NotifierConfig) error {
	n, err := notify.New(c)
	if err != nil {
		return err
	}
	return notify.Test(ctx, n)
}

// Events the engine raises.

// notifyStarted tells heartbeat notifiers (the only ones that want it by
// default) that a database's backup started.
func (e *Engine) notifyStarted(ctx context.Context, name string) {
	ev := notify.Event{Kind: notify.EventBackupStarted, Database: name, Title: "Backup started: " + name}
	if inRun(ctx) {
		ev.Audience = notify.AudienceHeartbeats
	}
	e.notify(ev)
}

// notifyBackup tells of a finished backup (b its record). Within a server
// entry's run, a database's backup pings heartbeats only (the run tells
// people once); the server entry's own failure is for people only
// (heartbeats ping per database).
func (e *Engine) notifyBackup(ctx context.Context, name string, b *store.Backup, failed error, partial string) {
	ev := notify.Event{Database: name}
	switch {
	case inRun(ctx):
		ev.Audience = notify.AudienceHeartbeats
	case serverRun(ctx):
		ev.Audience = notify.AudiencePeople
	}
	if !b.FinishedAt.IsZero() && b.FinishedAt.After(b.StartedAt) {
		ev.Duration = b.FinishedAt.Sub(b.StartedAt)
	}
	switch {
	case failed != nil:
		ev.Kind, ev.Body = notify.EventBackupFailed, failed.Error()+"\nNothing of this backup was kept."
	case partial != "":
		ev.Kind, ev.Title, ev.Body = notify.EventBackupFailed, "Backup not on every storage: "+name, partial
	default:
		ev.Kind = notify.EventBackupSucceeded
		ev.Fields = map[string]string{"size": strconv.FormatInt(b.StoredSize, 10) + " bytes", "backup": b.ID}
	}
	e.notify(ev)
}

// notifyCancelled tells heartbeat notifiers that a database's backup was
// cancelled (by the user, or by PgSafe shutting down): a failure ping, so a
// check that heard the start says at once that no backup was made, instead
// of waiting out its grace time. People are not told: someone cancelled it.
// A server entry's own record pings nothing: its databases' backups do.
func (e *Engine) notifyCancelled(ctx context.Context, name string, b *store.Backup) {
	if serverRun(ctx) {
		return
	}
	ev := notify.Event{Kind: notify.EventBackupFailed, Database: name, Audience: notify.AudienceHeartbeats,
		Title: "Backup cancelled: " + name, Body: "The backup was cancelled before it finished. Nothing of this backup was kept."}
	if !b.FinishedAt.IsZero() && b.FinishedAt.After(b.StartedAt) {
		ev.Duration = b.FinishedAt.Sub(b.StartedAt)
	}
	e.notify(ev)
}

// nearlyFull says whether a storage with free of total bytes left is about
// to refuse backups: the next one, a quarter bigger than the last to allow
// for growth, would not fit, or less than 5 % of the disk is left. (Room for
// one more backup is enough: retention prunes after a backup succeeds. The
// rule was "less than two backups' room", which a nearly empty disk with
// room for one more met at every backup.)
func nearlyFull(free, total, lastBackup int64) bool {
	return free < lastBackup+lastBackup/4 || (total > 0 && free*20 < total)
}

// checkSpace warns, after a backup, about each storage that can tell its
// free space and is nearly full.
func (e *Engine) checkSpace(ctx context.Context, db string, targets []backup.Target, lastBackup int64) {
	for _, t := range targets {
		sp, ok := t.Storage.(storage.Spacer)
		if !ok {
			continue
		}
		free, total, err := sp.Space(ctx)
		if err != nil || !nearlyFull(free, total, lastBackup) {
			continue
		}
		e.log.Warn("storage nearly full", "storage", t.Name, "free", free, "total", total)
		e.notify(notify.Event{Kind: notify.EventStorageNearlyFull, Database: db, Title: "Storage nearly full: " + t.Name,
			Body: fmt.Sprintf("%s has %d MB left of %d MB; the last backup of %s took %d MB, and the next may not fit. Free some space or set a retention policy before backups start failing.",
				t.Name, free>>20, total>>20, db, lastBackup>>20)})
	}
}
