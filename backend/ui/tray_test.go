package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/audit"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Start at login writes and removes the XDG autostart entry (no systemd
// user manager in this runtime folder: the developer's own is left alone).
func TestStartAtLogin(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv("APPIMAGE", "")
	s := NewSystemService(NewCore(nil))
	entry := filepath.Join(cfg, "autostart", "pgsafe.desktop")

	if on, err := s.StartAtLogin(); on || err != nil {
		t.Fatalf("StartAtLogin before = %v, %v", on, err)
	}
	if err := s.SetStartAtLogin(true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("no autostart entry after SetStartAtLogin(true): %v", err)
	}
	exe, _ := os.Executable()
	if !strings.Contains(string(b), "\nExec="+exe+" agent --login\n") || !strings.HasPrefix(string(b), "[Desktop Entry]\n") {
		t.Errorf("autostart entry does not run %s agent --login:\n%s", exe, b)
	}
	if on, err := s.StartAtLogin(); !on || err != nil {
		t.Fatalf("StartAtLogin after enabling = %v, %v", on, err)
	}
	if err := s.SetStartAtLogin(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Fatalf("autostart entry still there after SetStartAtLogin(false): %v", err)
	}
	if on, _ := s.StartAtLogin(); on {
		t.Errorf("StartAtLogin after disabling = true")
	}
}

func TestTrayStatus(t *testing.T) {
	c := NewCore(nil)
	var events []string
	c.SetEmitter(func(ev string, data any) {
		if st, ok := data.(TrayStatus); ok {
			events = append(events, ev+":"+st.Reason)
		}
	})
	s := NewSystemService(c)
	if st := s.TrayStatus(); st.Available || st.Reason == "" {
		t.Errorf("TrayStatus before the app knows = %+v, want unavailable with a reason", st)
	}
	c.SetTrayStatus(TrayStatus{Reason: "no tray here"})
	if st := s.TrayStatus(); st.Available || st.Reason != "no tray here" {
		t.Errorf("TrayStatus = %+v", st)
	}
	if len(events) != 1 || events[0] != "tray:status:no tray here" {
		t.Errorf("events = %q, want one tray:status", events)
	}
	// Another core (another app) has its own.
	if st := NewSystemService(NewCore(nil)).TrayStatus(); st.Reason == "no tray here" {
		t.Errorf("a new core shares the tray status")
	}
}

// The pause, the tray's overview and the one-time hint, on a real engine
// (settings database, keychain on a private bus).
func TestTrayOnEngine(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	ctx := context.Background()
	c := NewCore(nil)
	if o := c.TrayOverview(ctx); o.Notice == "" || o.Problem != "" {
		t.Errorf("overview before the engine opens = %+v, want a notice", o)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	e, _ := c.engine()

	// Pause for an hour, until resumed, resume: through the engine, so the
	// scheduler reads the same pause.
	if err := c.PauseSchedules(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	until, paused, err := e.SchedulesPaused(ctx)
	if err != nil || !paused || until.Sub(time.Now()) < 59*time.Minute || until.Sub(time.Now()) > time.Hour {
		t.Errorf("the engine sees paused %v until %s (%v) after pausing for an hour", paused, until, err)
	}
	if paused, u, err := c.SchedulePause(ctx); !paused || !u.Equal(until) || err != nil {
		t.Errorf("SchedulePause = %v, %v, %v", paused, u, err)
	}
	if err := c.PauseSchedules(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if u, paused, err := e.SchedulesPaused(ctx); err != nil || !paused || !u.IsZero() {
		t.Errorf("the engine sees paused %v until %s (%v) after the tray's \"Until resumed\"", paused, u, err)
	}
	if o := c.TrayOverview(ctx); !o.Paused || !o.PausedUntil.IsZero() {
		t.Errorf("overview while paused = %+v", o)
	}
	if err := c.ResumeSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if _, paused, err := e.SchedulesPaused(ctx); paused || err != nil {
		t.Errorf("still paused after resuming (%v)", err)
	}
	if err := c.ResumeSchedules(ctx); err != nil {
		t.Errorf("resuming when not paused: %v", err)
	}
	// Audited: two pauses and one resume (resuming with no pause is not an event).
	recs, err := e.Audit().List(ctx, audit.Filter{ActionPrefix: "schedule."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+" "+r.Fields["until"])
	}
	if len(recs) != 3 || actions[0] != "schedule.resumed " || actions[1] != "schedule.paused resumed" || recs[2].Action != "schedule.paused" {
		t.Fatalf("audit log: %q", actions)
	}
	if u, err := time.Parse(time.RFC3339, recs[2].Fields["until"]); err != nil || u.Sub(until).Abs() > 2*time.Second {
		t.Errorf("audited pause until %q, paused until %s", recs[2].Fields["until"], until)
	}

	// Overview: no databases, then two with backup histories.
	if o := c.TrayOverview(ctx); len(o.Databases) != 0 || o.Last != nil || o.Problem != "" || o.Paused {
		t.Errorf("empty overview = %+v", o)
	}
	st := e.Store()
	now := time.Now().UTC().Truncate(time.Millisecond)
	add := func(db int64, status store.Status, origin string, finished time.Time) {
		t.Helper()
		_, id, err := store.NewBackupID()
		if err != nil {
			t.Fatal(err)
		}
		b := store.Backup{ID: id, DatabaseID: db, Status: status, Origin: origin, StartedAt: finished.Add(-time.Minute),
			FinishedAt: finished, KeyID: e.KeyID().String()}
		if status == store.StatusRunning {
			b.FinishedAt = time.Time{}
		}
		if err := st.CreateBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	newDB := func(name string) int64 {
		id, err := st.CreateDatabase(ctx, store.DatabaseConfig{Name: name, Host: "127.0.0.1", Port: 5432, DBName: name, User: "u"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	crm, shop := newDB("crm"), newDB("billing")
	add(crm, store.StatusSucceeded, store.OriginManual, now.Add(-3*time.Hour))
	add(crm, store.StatusFailed, store.OriginScheduled, now.Add(-2*time.Hour))
	add(crm, store.StatusSucceeded, store.OriginScheduled, now.Add(-time.Hour)) // crm is fine again
	add(shop, store.StatusSucceeded, store.OriginManual, now.Add(-50*time.Minute))
	add(shop, store.StatusFailed, store.OriginManual, now.Add(-40*time.Minute))
	add(shop, store.StatusCancelled, store.OriginManual, now.Add(-30*time.Minute))  // neither good nor bad
	add(shop, store.StatusSucceeded, store.OriginImport, now.Add(-20*time.Minute))  // says nothing about this machine
	add(shop, store.StatusRunning, store.OriginScheduled, now.Add(-10*time.Minute)) // not finished
	o := c.TrayOverview(ctx)
	if strings.Join(o.Databases, ",") != "billing,crm" {
		t.Errorf("databases = %q", o.Databases)
	}
	if strings.Join(o.Failing, ",") != "billing" {
		t.Errorf("failing = %q, want billing (its latest real backup failed)", o.Failing)
	}
	if o.Last == nil || o.Last.Database != "billing" || o.Last.Succeeded || !o.Last.Finished.Equal(now.Add(-40*time.Minute)) {
		t.Errorf("last = %+v, want billing's failure 40 min ago", o.Last)
	}

	// The hint is due once, and stays shown across runs (a setting).
	if !c.FirstTrayHint(ctx) {
		t.Errorf("first FirstTrayHint = false")
	}
	if c.FirstTrayHint(ctx) {
		t.Errorf("second FirstTrayHint = true")
	}
	if v, _ := st.Setting(ctx, SettingTrayHintShown); v != "1" {
		t.Errorf("%s = %q", SettingTrayHintShown, v)
	}
}
