package autostart

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// noSystemd points systemctl --user at a runtime folder with no manager in
// it, as in a session that systemd does not run.
func noSystemd(t *testing.T) *linuxLogin {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	l, err := linuxSystem()
	if err != nil || l.configDir != cfg {
		t.Fatalf("linuxSystem() = %+v, %v; want the config folder %s", l, err, cfg)
	}
	if ok, why := l.systemdSession(context.Background()); ok || why == "" {
		t.Fatalf("systemdSession without a manager = %v, %q", ok, why)
	}
	return l
}

// Without a systemd session: the XDG entry, switched off by Hidden=true,
// removed by Disable (twice is fine).
func TestXDGEntryWithoutSystemd(t *testing.T) {
	l := noSystemd(t)
	if on, err := Enabled(); on || err != nil {
		t.Fatalf("Enabled before Enable = %v, %v", on, err)
	}
	cmd := []string{"/opt/Pg Safe/pgsafe", "agent", "--login"}
	item, err := Enable(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if item.Kind != XDG || item.Where != l.desktopFile() || item.Why == "" {
		t.Fatalf("Enable = %+v; want the XDG entry %s and why", item, l.desktopFile())
	}
	b, err := os.ReadFile(l.desktopFile())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != Entry(cmd) {
		t.Errorf("entry:\n%s\nwant\n%s", b, Entry(cmd))
	}
	if exists(l.unitFile()) {
		t.Errorf("a systemd unit was written without a systemd session")
	}
	if on, err := Enabled(); !on || err != nil {
		t.Fatalf("Enabled after Enable = %v, %v", on, err)
	}
	// A desktop's settings may switch it off with Hidden=true.
	if err := os.WriteFile(l.desktopFile(), append(b, "Hidden=true\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(); on {
		t.Errorf("Enabled with Hidden=true = true")
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if exists(l.desktopFile()) {
		t.Fatalf("entry still there after Disable")
	}
	if err := Disable(); err != nil {
		t.Errorf("Disable with nothing to remove: %v", err)
	}
}

// An older PgSafe's entry (`pgsafe app --hidden`) becomes the agent's, for
// the same program; a switched-off one and today's are left alone.
func TestMigrateOlderEntry(t *testing.T) {
	l := noSystemd(t)
	dir := filepath.Join(t.TempDir(), "Pg Safe")
	os.Mkdir(dir, 0o755)
	exe := filepath.Join(dir, "pgsafe")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := Entry([]string{exe, "app", "--hidden"})
	write := func(s string) {
		if err := writeFile(l.desktopFile(), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string {
		b, _ := os.ReadFile(l.desktopFile())
		return string(b)
	}

	write(old + "Hidden=true\n")
	if did, err := Migrate(); did || err != nil || read() != old+"Hidden=true\n" {
		t.Fatalf("Migrate of a switched-off entry = %v, %v; entry now\n%s", did, err, read())
	}
	write(old)
	if did, err := Migrate(); !did || err != nil {
		t.Fatalf("Migrate = %v, %v", did, err)
	}
	if want := Entry([]string{exe, "agent", "--login"}); read() != want {
		t.Fatalf("migrated entry:\n%s\nwant\n%s", read(), want)
	}
	if did, err := Migrate(); did || err != nil {
		t.Errorf("Migrate of today's entry = %v, %v", did, err)
	}
	// The program it named is gone: this one, from wherever it is now.
	write(Entry([]string{"/gone/pgsafe", "app", "--hidden"}))
	if did, err := Migrate(); !did || err != nil {
		t.Fatalf("Migrate = %v, %v", did, err)
	}
	now, _ := Command()
	if want := Entry(now); read() != want {
		t.Errorf("migrated entry of a program that is gone:\n%s\nwant\n%s", read(), want)
	}
}

// A systemd session whose manager refuses to enable the service gets the
// XDG entry instead, says why, and keeps no half-enabled unit. (The real
// manager is exercised in login_linux_test.go; this stand-in refuses.)
func TestSystemdRefusalFallsBackToXDG(t *testing.T) {
	cfg := t.TempDir()
	var calls []string
	l := &linuxLogin{configDir: cfg, systemctl: func(ctx context.Context, args ...string) (string, error) {
		calls = append(calls, strings.Join(args, " "))
		switch args[0] {
		case "is-active":
			return "active", nil
		case "enable":
			return "Failed to enable unit: Access denied", errors.New("exit status 1")
		}
		return "", nil
	}}
	cmd := []string{"/usr/bin/pgsafe", "agent", "--login"}
	item, err := l.enable(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	if item.Kind != XDG || !strings.Contains(item.Why, "could not be enabled") || !strings.Contains(item.Why, "exit status 1") {
		t.Errorf("Enable = %+v; want the XDG entry and why", item)
	}
	if exists(l.unitFile()) || exists(l.wantsLink()) {
		t.Errorf("a half-enabled unit was left behind")
	}
	if !exists(l.desktopFile()) {
		t.Errorf("no XDG entry")
	}
	want := []string{"is-active graphical-session.target", "daemon-reload", "enable pgsafe-agent.service", "disable pgsafe-agent.service", "daemon-reload"}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("systemctl --user calls %q, want %q", calls, want)
	}
}

// A program path systemd cannot run (a quote in it) gets the XDG entry in a
// systemd session, and says why.
func TestSystemdRefusedPathFallsBackToXDG(t *testing.T) {
	l := &linuxLogin{configDir: t.TempDir(), systemctl: func(ctx context.Context, args ...string) (string, error) {
		if args[0] == "is-active" {
			return "active", nil
		}
		return "", nil
	}}
	item, err := l.enable(context.Background(), []string{"/home/o'brien/pgsafe", "agent", "--login"})
	if err != nil {
		t.Fatal(err)
	}
	if item.Kind != XDG || !strings.Contains(item.Why, "quote or a backslash") || exists(l.unitFile()) {
		t.Errorf("Enable = %+v (unit written: %v); want the XDG entry, why, and no unit", item, exists(l.unitFile()))
	}
}
