package ui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/tray/autostart"
)

// The window's life beside the tray: whether there is a tray icon, starting
// at login, and (for the app, not bound) what the tray shows and the pause
// of scheduled backups.

// TrayStatus says whether PgSafe's agent shows a tray icon; Reason says
// why there is none. Either way closing the window leaves the agent running.
type TrayStatus struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
}

// trayStatuses holds each core's TrayStatus (one core per app).
var trayStatuses sync.Map // *Core → TrayStatus

// SetTrayStatus records whether the app shows a tray icon and emits
// "tray:status" (a TrayStatus). The app calls it once it knows.
func (c *Core) SetTrayStatus(st TrayStatus) {
	trayStatuses.Store(c, st)
	c.emit("tray:status", st)
}

// TrayStatus says whether PgSafe shows a tray icon, and why not.
func (s *SystemService) TrayStatus() TrayStatus {
	if v, ok := trayStatuses.Load(s.core); ok {
		return v.(TrayStatus)
	}
	return TrayStatus{Reason: "PgSafe is still looking for a system tray"}
}

// StartAtLogin says whether PgSafe's agent starts when the user logs in
// (package autostart: a systemd user service or an XDG autostart entry on
// Linux, a LaunchAgent on macOS, the Run key on Windows). An older PgSafe's
// login item, which started the whole app hidden, is replaced here by
// today's for the same program.
func (s *SystemService) StartAtLogin() (bool, error) {
	if migrated, err := autostart.Migrate(); err != nil {
		s.core.log.Warn("start at login: the older login item was not replaced", "err", err)
	} else if migrated {
		s.core.log.Info("start at login: replaced the older login item (pgsafe app --hidden) with the agent's")
	}
	return autostart.Enabled()
}

// SetStartAtLogin makes PgSafe's agent (`pgsafe agent --login`: the
// schedules and the tray icon, no window) start at login, or not. Turning
// it off leaves the agent running now alone.
func (s *SystemService) SetStartAtLogin(on bool) error {
	if !on {
		if err := autostart.Disable(); err != nil {
			return err
		}
		s.core.log.Info("start at login: off")
		return nil
	}
	cmd, err := autostart.Command()
	if err != nil {
		return fmt.Errorf("cannot tell where PgSafe is installed: %w", err)
	}
	item, err := autostart.Enable(cmd)
	if err != nil {
		return err
	}
	s.core.log.Info("start at login: on", "kind", string(item.Kind), "where", item.Where, "why", item.Why)
	return nil
}

// PauseSchedules pauses scheduled backups for d, or until resumed (d == 0),
// through the engine: the running scheduler stops at once, another process's
// sees the shared setting, and the pause is audited.
func (c *Core) PauseSchedules(ctx context.Context, d time.Duration) error {
	e, err := c.engine()
	if err != nil {
		return err
	}
	return e.PauseSchedules(ctx, d)
}

// ResumeSchedules ends a pause of scheduled backups (when not paused, it
// does nothing and audits nothing).
func (c *Core) ResumeSchedules(ctx context.Context) error {
	e, err := c.engine()
	if err != nil {
		return err
	}
	if _, paused, err := e.SchedulesPaused(ctx); err == nil && !paused {
		return nil
	}
	return e.ResumeSchedules(ctx)
}

// SchedulePause reads the pause of scheduled backups: paused, and until when
// (zero: until resumed).
func (c *Core) SchedulePause(ctx context.Context) (paused bool, until time.Time, err error) {
	e, err := c.engine()
	if err != nil {
		return false, time.Time{}, err
	}
	until, paused, err = e.SchedulesPaused(ctx)
	return paused, until, err
}

// TrayOverview is what the tray icon shows: the state of every database's
// backups at a glance.
type TrayOverview struct {
	Databases []string   // names, sorted
	Running   []string   // being backed up now
	Last      *TrayEntry // the most recently finished backup (nil: none)
	// Failing: databases failing or unprotected (package status); Attention:
	// those needing attention; Reason: the worst one's first reason.
	Failing   []string
	Attention []string
	Reason    string
	// Problem: backups cannot run at all, and why. Notice: nothing wrong
	// yet, but not ready (still opening).
	Problem, Notice string
	Paused          bool
	PausedUntil     time.Time // zero: until resumed
	// Lines: every entry's state, sorted by name; a server entry's
	// databases are in its line's Databases, not here.
	Lines []TrayLine
}

// TrayLine is one database's state as the tray shows it.
type TrayLine struct {
	Database string
	Server   string // its server entry ("": none)
	State    status.State
	Reason   string // its first reason ("" when protected)
	// Databases: a server entry's databases, sorted by name.
	Databases []TrayLine
}

// TrayEntry is one finished backup.
type TrayEntry struct {
	Database  string
	Succeeded bool
	Finished  time.Time
}

// TrayOverview reads what the tray shows. Imported backups do not count:
// they say nothing about this machine's backups.
func (c *Core) TrayOverview(ctx context.Context) TrayOverview {
	e, err := c.engine()
	if err != nil {
		c.mu.Lock()
		cause := c.err
		c.mu.Unlock()
		if errors.Is(cause, errStarting) {
			return TrayOverview{Notice: "Opening PgSafe's key and settings…"}
		}
		return TrayOverview{Problem: "Backups cannot run: PgSafe's key and settings are not open"}
	}
	var o TrayOverview
	for _, r := range e.RunningBackups() {
		o.Running = append(o.Running, r.DatabaseName)
	}
	all, err := e.Status(ctx, "")
	if err != nil {
		c.log.Warn("tray: reading the databases' states", "err", err)
		o.Problem = "PgSafe cannot read its settings: " + err.Error()
		return o
	}
	sum := all.Summary() // the states the window and `pgsafe status` show
	o.Last = (*TrayEntry)(sum.Last)
	byEntry := sum.ByEntry() // a server entry once, its databases under it
	o.Databases, o.Failing, o.Attention, o.Reason = byEntry.Databases, byEntry.Failing, byEntry.Attention, byEntry.Reason
	for _, l := range byEntry.Lines {
		line := TrayLine{Database: l.Database, State: l.State, Reason: l.Reason}
		for _, c := range l.Databases {
			line.Databases = append(line.Databases, TrayLine{Database: c.Database, Server: c.Server, State: c.State, Reason: c.Reason})
		}
		o.Lines = append(o.Lines, line)
	}
	if paused, until, err := c.SchedulePause(ctx); err != nil {
		c.log.Warn("tray: reading the schedule pause", "err", err)
	} else {
		o.Paused, o.PausedUntil = paused, until
	}
	return o
}

// SettingTrayHintShown records that the user was told, once, that closing
// the window leaves PgSafe running in the tray.
const SettingTrayHintShown = "ui.tray_hint_shown"

// FirstTrayHint reports whether the "keeps running in the tray" hint is due
// (never shown), and marks it shown. Without open settings it is due once
// per run.
func (c *Core) FirstTrayHint(ctx context.Context) bool {
	e, err := c.engine()
	if err != nil {
		return trayHintOnce.CompareAndSwap(false, true)
	}
	changed, err := e.FirstTime(ctx, SettingTrayHintShown)
	if err != nil {
		c.log.Warn("tray: recording the hint", "err", err)
		return trayHintOnce.CompareAndSwap(false, true)
	}
	return changed
}

var trayHintOnce atomic.Bool
