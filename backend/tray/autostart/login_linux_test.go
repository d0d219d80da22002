package autostart_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/cli"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/tray/autostart"
)

// These tests log in for real: the login item Enable wrote is run by what
// runs it at a real login (GLib's launcher for an XDG entry, a systemd user
// manager for the service), and the agent it starts must answer on its
// socket. The test binary is `pgsafe` when PGSAFE_TEST_AS_PGSAFE=1.
func TestMain(m *testing.M) {
	if os.Getenv("PGSAFE_TEST_AS_PGSAFE") == "1" {
		os.Exit(cli.Run(&cli.Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// awkwardProgram is this test binary under a path that needs the quoting a
// login item does: blanks, $, ;, and for each launcher what it accepts:
// systemd no quote or backslash in a program path, GLib's launcher no %
// (it looks the program up before it reads %% as %): docs/AUTOSTART.md.
func awkwardProgram(t *testing.T, launcher string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{
		"systemd": `Pg Safe $HOME 100% ;x`,
		"glib":    `Pg Safe $HOME it's "q" back\slash ;x`,
	}[launcher]
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "pgsafe")
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// settingsHome is a fresh settings folder whose socket path fits
// sockaddr_un, set as PGSAFE_HOME.
func settingsHome(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsafe-login-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	t.Setenv("PGSAFE_HOME", d)
	return d
}

// waitAgent waits until an agent of home answers whose pid is not one of
// not, and returns its hello; diag says what went on if none does.
func waitAgent(t *testing.T, home string, why string, diag func() string, not ...int) agent.Hello {
	t.Helper()
	c := agent.NewClient(home)
	defer c.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h, err := c.Hello(ctx)
		cancel()
		if err == nil && !containsInt(not, h.PID) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no agent answered within 90 s (last: pid %d, %v)\n%s", why, h.PID, err, diag())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// agentLog is the agent's log in home, if it wrote one.
func agentLog(home string) string {
	b, _ := os.ReadFile(filepath.Join(home, agent.LogName))
	return string(b)
}

// argv is a process's command line.
func argv(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// stopAgent asks the agent to quit and waits until it has.
func stopAgent(t *testing.T, home string) {
	t.Helper()
	c := agent.NewClient(home)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Quit(ctx); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	if err := agent.WaitExit(ctx, home); err != nil {
		t.Fatalf("WaitExit: %v", err)
	}
}

// killOnCleanup ends the agent pid if the test left it running.
func killOnCleanup(t *testing.T, pid int) {
	t.Cleanup(func() {
		if syscall.Kill(pid, 0) == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// Without a systemd session: the XDG autostart entry, run by GLib's
// launcher (`gio launch`, the GDesktopAppInfo that GNOME's and other
// desktops' autostart use), starts the agent with the command as written.
func TestXDGEntryStartsTheAgent(t *testing.T) {
	testenv.Keychain(t) // HOME, XDG_CONFIG_HOME, a runtime folder with no systemd in it, the keychain's bus
	gio, err := exec.LookPath("gio")
	if err != nil {
		t.Fatal("gio (GLib's launcher) is missing: apt-get install libglib2.0-bin (make test-deps)")
	}
	home := settingsHome(t)
	t.Setenv("PGSAFE_TEST_AS_PGSAFE", "1")
	cmd := []string{awkwardProgram(t, "glib"), "agent", "--login"}

	item, err := autostart.Enable(cmd)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "pgsafe.desktop")
	if item.Kind != autostart.XDG || item.Where != want {
		t.Fatalf("Enable = %+v; want the XDG entry %s", item, want)
	}
	if on, err := autostart.Enabled(); !on || err != nil {
		t.Fatalf("Enabled = %v, %v", on, err)
	}

	// Log in.
	// Its output to a file: the agent inherits it, and a pipe would stay
	// open as long as the agent runs.
	out, err := os.Create(filepath.Join(t.TempDir(), "gio.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	launch := exec.Command(gio, "launch", item.Where)
	launch.Stdout, launch.Stderr = out, out
	if err := launch.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("gio launch %s: %v\n%s", item.Where, err, b)
	}
	h := waitAgent(t, home, "after gio launch", func() string { return agentLog(home) })
	killOnCleanup(t, h.PID)
	if got := argv(t, h.PID); !reflect.DeepEqual(got, cmd) {
		t.Errorf("the agent runs as %q; want %q", got, cmd)
	}
	// The login item again while an agent runs (a restart racing a window
	// that started one): it exits 0 at once, so systemd and launchd do not
	// start it over and over, and the running agent stays the one.
	again := exec.Command(cmd[0], cmd[1:]...)
	msg, err := again.CombinedOutput()
	if err != nil || !strings.Contains(string(msg), fmt.Sprintf("already runs (pid %d)", h.PID)) {
		t.Errorf("a second `agent --login` = %v: %s; want exit 0 and that pid %d already runs", err, msg, h.PID)
	}
	if h2 := waitAgent(t, home, "after a second login item", func() string { return agentLog(home) }); h2.PID != h.PID {
		t.Errorf("the agent is now pid %d, not %d", h2.PID, h.PID)
	}
	stopAgent(t, home)

	if err := autostart.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(item.Where); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if on, err := autostart.Enabled(); on || err != nil {
		t.Errorf("Enabled after Disable = %v, %v", on, err)
	}
}

// In a session run by systemd: an older PgSafe's XDG entry is replaced by
// the systemd user service; logging in (the session's target starting)
// starts the agent; kill -9 and systemd starts it again (Restart=
// on-failure); Quit stops it for good (exit 0 is not restarted); Disable
// removes the service. A real systemd user manager runs this (root only:
// see startUserManager).
func TestSystemdServiceStartsAndRestartsTheAgent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("a private systemd user manager needs root here (a mount namespace and cgroups): run this test as root, as CI does")
	}
	kc := testenv.Keychain(t)
	home := settingsHome(t)
	m := startUserManager(t)
	cfg := os.Getenv("XDG_CONFIG_HOME")
	exe := awkwardProgram(t, "systemd")

	// What a desktop's session manager does before its session target:
	// hand the session's environment to systemd (dbus-update-activation-
	// environment --systemd). Here: the keychain's bus, and the settings
	// folder of this test.
	m.ctl(t, "set-environment", "DBUS_SESSION_BUS_ADDRESS="+kc.BusAddress, "PGSAFE_HOME="+home, "PGSAFE_TEST_AS_PGSAFE=1")
	// A session target as GNOME's and Plasma's: it binds graphical-session.target.
	session := "pgsafe-test-session.target"
	writeUnit(t, filepath.Join(cfg, "systemd", "user", session),
		"[Unit]\nDescription=a test desktop session\nBindsTo=graphical-session.target\nBefore=graphical-session.target\n")
	m.ctl(t, "daemon-reload")
	m.ctl(t, "start", session)
	if out := m.ctl(t, "is-active", "graphical-session.target"); out != "active" {
		t.Fatalf("graphical-session.target is %q", out)
	}

	// An older PgSafe's entry becomes the service, not a second item.
	oldEntry := filepath.Join(cfg, "autostart", "pgsafe.desktop")
	writeUnit(t, oldEntry, autostart.Entry([]string{exe, "app", "--hidden"}))
	if did, err := autostart.Migrate(); !did || err != nil {
		t.Fatalf("Migrate = %v, %v", did, err)
	}
	if _, err := os.Stat(oldEntry); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the older XDG entry is still there beside the service: %v", err)
	}
	unit := filepath.Join(cfg, "systemd", "user", autostart.UnitName)
	if b, err := os.ReadFile(unit); err != nil || !strings.Contains(string(b), "\nExecStart=\"") {
		t.Fatalf("unit %s: %v\n%s", unit, err, b)
	}
	if out := m.ctl(t, "is-enabled", autostart.UnitName); out != "enabled" {
		t.Fatalf("is-enabled = %q", out)
	}
	if on, err := autostart.Enabled(); !on || err != nil {
		t.Fatalf("Enabled = %v, %v", on, err)
	}
	// Enabling does not start it now (an agent already runs beside a window).
	if st := m.show(t, "ActiveState"); st != "inactive" {
		t.Fatalf("the service is %s right after Enable; want inactive until login", st)
	}

	// Log out, and in again.
	m.ctl(t, "stop", session)
	m.waitState(t, "graphical-session.target", "inactive")
	m.ctl(t, "start", session)
	h1 := waitAgent(t, home, "after login", m.status)
	killOnCleanup(t, h1.PID)
	if pid := m.show(t, "MainPID"); pid != strconv.Itoa(h1.PID) {
		t.Fatalf("the agent (pid %d) is not the service's main process (%s)", h1.PID, pid)
	}
	if got, want := argv(t, h1.PID), []string{exe, "agent", "--login"}; !reflect.DeepEqual(got, want) {
		t.Errorf("systemd runs %q; want %q", got, want)
	}

	// A crash: systemd starts it again.
	if err := syscall.Kill(h1.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h2 := waitAgent(t, home, "after kill -9", m.status, h1.PID)
	killOnCleanup(t, h2.PID)
	if pid := m.show(t, "MainPID"); pid != strconv.Itoa(h2.PID) {
		t.Fatalf("the restarted agent (pid %d) is not the service's main process (%s)", h2.PID, pid)
	}
	if n := m.show(t, "NRestarts"); n != "1" {
		t.Errorf("NRestarts = %s after one crash", n)
	}

	// Quit: exit 0, and systemd leaves it stopped (no restart pending).
	stopAgent(t, home)
	m.waitState(t, autostart.UnitName, "inactive")
	if sub, res := m.show(t, "SubState"), m.show(t, "Result"); sub != "dead" || res != "success" {
		t.Errorf("after Quit the service is %s (result %s); want dead, success, no restart", sub, res)
	}

	if err := autostart.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unit); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit still there after Disable: %v", err)
	}
	if out, _ := m.try("is-enabled", autostart.UnitName); out == "enabled" {
		t.Errorf("still enabled after Disable")
	}
	if on, err := autostart.Enabled(); on || err != nil {
		t.Errorf("Enabled after Disable = %v, %v", on, err)
	}
}

func writeUnit(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// userManager is a private `systemd --user` for one test.
type userManager struct {
	cmd     *exec.Cmd
	runtime string
}

// startUserManager runs a systemd user manager of its own for the test and
// points systemctl --user (XDG_RUNTIME_DIR) at it. systemd refuses to run
// unless the machine booted with it (/run/systemd/system), which a
// container did not: the manager gets a mount namespace of its own where
// /run/systemd/system exists, and cgroups of its own (a user manager whose
// cgroup is the root would move every process of the machine into its
// init.scope). It stops at cleanup, and its cgroups are removed.
func startUserManager(t *testing.T) *userManager {
	t.Helper()
	systemd := ""
	for _, p := range []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"} {
		if _, err := os.Stat(p); err == nil {
			systemd = p
			break
		}
	}
	unshare, err := exec.LookPath("unshare")
	if systemd == "" || err != nil {
		t.Fatal("systemd and unshare are needed: apt-get install systemd util-linux (make test-deps)")
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		t.Fatal("systemctl is missing: apt-get install systemd (make test-deps)")
	}
	runtime, err := os.MkdirTemp("", "pgsafe-sd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runtime) })

	// Its readiness: systemd --user says READY=1 on $NOTIFY_SOCKET.
	notifyPath := filepath.Join(runtime, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	must, may := managerCgroups(t, fmt.Sprintf("pgsafe-test-user-manager-%d-%d", os.Getpid(), time.Now().UnixNano()))
	script := `set -e
for d in $MUST_CGROUPS; do echo $$ > "$d/cgroup.procs"; done
for d in $MAY_CGROUPS; do echo $$ > "$d/cgroup.procs" 2>/dev/null || true; done
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system
exec "$SYSTEMD" --user`
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime, "NOTIFY_SOCKET="+notifyPath, "SYSTEMD="+systemd,
		"MUST_CGROUPS="+strings.Join(must, " "), "MAY_CGROUPS="+strings.Join(may, " "))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start systemd --user: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	m := &userManager{cmd: cmd, runtime: runtime}
	t.Cleanup(func() { m.stop(t, exited, append(must, may...)) })

	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := notify.ReadFromUnix(buf)
			if err != nil {
				ready <- err
				return
			}
			if strings.Contains("\n"+string(buf[:n])+"\n", "\nREADY=1\n") {
				ready <- nil
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("systemd --user: %v", err)
		}
	case err := <-exited:
		exited <- err
		t.Fatalf("systemd --user exited as it started (%v): %s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("systemd --user did not say it was ready within 60 s: %s", logs.String())
	}
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	return m
}

// managerCgroups makes a cgroup named name in every hierarchy: must are
// those systemd tracks processes in (the named "systemd" v1 hierarchy and
// cgroup v2), may the v1 controllers (cpuset refuses a task until it is
// configured: then the manager stays where it was there).
func managerCgroups(t *testing.T, name string) (must, may []string) {
	t.Helper()
	const root = "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err == nil {
		must = []string{filepath.Join(root, name)} // cgroup v2 only
	} else {
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatalf("no cgroups at %s: %v", root, err)
		}
		for _, e := range entries {
			h := filepath.Join(root, e.Name())
			if _, err := os.Stat(filepath.Join(h, "cgroup.procs")); err != nil {
				continue
			}
			switch e.Name() {
			case "systemd", "unified":
				must = append(must, filepath.Join(h, name))
			default:
				may = append(may, filepath.Join(h, name))
			}
		}
	}
	if len(must) == 0 {
		t.Fatalf("no systemd or cgroup v2 hierarchy under %s", root)
	}
	for _, d := range append(must, may...) {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("make a cgroup for the user manager: %v", err)
		}
	}
	return must, may
}

// stop ends the manager (it stops its services first) and removes its
// cgroups, deepest first; a process left in one is killed.
func (m *userManager) stop(t *testing.T, exited chan error, cgroups []string) {
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Errorf("systemd --user did not stop within 60 s of SIGTERM: killing it")
		m.cmd.Process.Kill()
		<-exited
	}
	for _, top := range cgroups {
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if b, err := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						t.Errorf("process %d was left in the user manager's cgroup %s: killing it", pid, dirs[i])
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			for try := 0; try < 100; try++ {
				if err := os.Remove(dirs[i]); err == nil || errors.Is(err, os.ErrNotExist) {
					break
				}
				time.Sleep(20 * time.Millisecond) // a killed process leaves its cgroup a moment later
			}
		}
	}
}

// ctl runs `systemctl --user args…` against the manager and returns its
// output; an error fails the test.
func (m *userManager) ctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := m.try(args...)
	if err != nil {
		t.Fatalf("systemctl --user %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func (m *userManager) try(args ...string) (string, error) {
	cmd := exec.Command("systemctl", append([]string{"--user", "--no-pager"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+m.runtime)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// status is what systemctl says of the PgSafe service.
func (m *userManager) status() string {
	out, _ := m.try("status", autostart.UnitName)
	return out
}

// show is one property of the PgSafe service.
func (m *userManager) show(t *testing.T, prop string) string {
	t.Helper()
	return m.ctl(t, "show", "--value", "-p", prop, autostart.UnitName)
}

// waitState waits until unit's ActiveState is state.
func (m *userManager) waitState(t *testing.T, unit, state string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := m.ctl(t, "show", "--value", "-p", "ActiveState", unit)
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			st, _ := m.try("status", unit)
			t.Fatalf("%s is %s, not %s, after 60 s:\n%s", unit, got, state, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
