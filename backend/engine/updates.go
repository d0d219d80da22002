package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pgsafe/pgsafe/backend/store"
	"github.com/pgsafe/pgsafe/backend/update"
)

// Updates checks PgSafe's update feed (package update) and keeps what the
// last check found, for the window's Settings and the tray. It needs no
// key or settings: the agent holds one for its whole life. It never
// downloads or runs anything.
type Updates struct {
	checker *update.Checker // nil: no feed, or feedErr
	feedErr error           // the build's feed is not usable
	changed func(update.Status)
	log     *slog.Logger

	run sync.Mutex // one check at a time
	mu  sync.Mutex
	st  update.Status
}

// UpdateOptionsFromBuild are the options this build checks with: the feed
// stamped at build time (none: no checks), its version and OS.
func UpdateOptionsFromBuild() update.Options { return update.FromBuild() }

// NewUpdates returns the update checks of o (o.Feed empty: this build does
// not check). changed is told every new status (a check starting and
// ending).
func NewUpdates(o update.Options, changed func(update.Status), log *slog.Logger) *Updates {
	if log == nil {
		log = slog.Default()
	}
	if changed == nil {
		changed = func(update.Status) {}
	}
	u := &Updates{changed: changed, log: log, st: update.Status{Current: o.Version}}
	if o.Feed == "" {
		return u
	}
	u.st.Enabled = true
	u.checker, u.feedErr = update.NewChecker(o)
	if u.feedErr != nil {
		log.Error("this build's update feed cannot be used", "err", u.feedErr)
	}
	return u
}

// Status is what the last check found.
func (u *Updates) Status() update.Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.st
}

// Check reads the feed now and returns the new status (unchanged when this
// build does not check). A failure keeps the release found before.
func (u *Updates) Check(ctx context.Context) update.Status {
	if !u.Status().Enabled {
		return u.Status()
	}
	u.run.Lock()
	defer u.run.Unlock()
	u.set(func(st *update.Status) { st.Checking = true })
	var res update.Result
	err := u.feedErr
	if err == nil {
		res, err = u.checker.Check(ctx)
	}
	now := time.Now()
	st := u.set(func(st *update.Status) {
		st.Checking = false
		if err != nil {
			st.Error, st.FailedAt = err.Error(), now
			return
		}
		latest := res.Latest
		st.Error, st.FailedAt = "", time.Time{}
		st.CheckedAt, st.Latest, st.Available = now, &latest, res.Newer
		st.DownloadPage = latest.DownloadPage(u.checker.OS())
	})
	switch {
	case err != nil:
		u.log.Warn("update check failed", "err", err)
	case st.Available:
		u.log.Info("a newer PgSafe is available", "version", st.Latest.Version, "current", st.Current)
	default:
		u.log.Info("PgSafe is up to date", "current", st.Current, "latest", st.Latest.Version)
	}
	return st
}

// set changes the status under the lock and tells changed.
func (u *Updates) set(fn func(*update.Status)) update.Status {
	u.mu.Lock()
	fn(&u.st)
	st := u.st
	u.mu.Unlock()
	u.changed(st)
	return st
}

// settingAutoUpdateChecks: whether the agent checks for updates on its own
// ("off"; unset: on).
const settingAutoUpdateChecks = "update.auto_check"

// AutoUpdateChecks says whether the agent checks for updates on its own
// (default on, in a build that has a feed).
func (e *Engine) AutoUpdateChecks(ctx context.Context) (bool, error) {
	v, err := e.store.Setting(ctx, settingAutoUpdateChecks)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	return v != "off", nil
}

// SetAutoUpdateChecks turns the agent's own update checks on or off
// (audited). "Check now" works either way.
func (e *Engine) SetAutoUpdateChecks(ctx context.Context, on bool) error {
	v := "on"
	if !on {
		v = "off"
	}
	changed, err := e.store.SetSetting(ctx, settingAutoUpdateChecks, v)
	if err != nil || !changed {
		return err
	}
	return e.record(ctx, Event{Action: "settings.changed", Target: "update checks", Fields: map[string]string{"fields": settingAutoUpdateChecks}, Message: v})
}
