package benchcmp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// idleFor is how long BenchmarkAgentIdle watches the idle agent
// (PGSAFE_BENCH_IDLE, default 10m as in issue "PgSafe Agent").
func idleFor() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PGSAFE_BENCH_IDLE")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Minute
}

// BenchmarkAgentIdle: the agent as a user's desktop runs it with the window
// closed — started from the headless build as the window starts it, its
// tray icon up (a StatusNotifierWatcher on a private bus), five databases
// with daily schedules and their health checks — watched for idleFor: its
// PSS (proportional set size, from /proc/PID/smaps_rollup, the most it
// reached) and its CPU use (utime+stime over the wall time).
// Targets: ≤ 40 MiB PSS and < 0.1 % CPU.
func BenchmarkAgentIdle(b *testing.B) {
	bin := os.Getenv("PGSAFE_HEADLESS_BIN")
	if bin == "" {
		b.Fatal("PGSAFE_HEADLESS_BIN must name the built pgsafe-headless binary (make bench sets it)")
	}
	kc := testenv.Keychain(b)
	testenv.StartTrayWatcher(b, kc.BusAddress, true)
	pg := testenv.Postgres(b)
	home, err := os.MkdirTemp("", "pgsafe-bench-agent-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(home) })
	b.Setenv("PGSAFE_HOME", home)
	ctx, cancel := context.WithTimeout(context.Background(), idleFor()+5*time.Minute)
	defer cancel()
	c, h, err := agent.Ensure(ctx, home, []string{bin, "agent", "--login"})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		c.Quit(ctx)
		agent.WaitExit(ctx, home)
	}()
	call := func(method string, args ...any) {
		b.Helper()
		if err := c.Call(ctx, method, nil, args...); err != nil {
			b.Fatalf("%s: %v", method, err)
		}
	}
	waitReady(b, ctx, c)
	backups := filepath.Join(home, "backups")
	if err := os.Mkdir(backups, 0o700); err != nil {
		b.Fatal(err)
	}
	call("StorageService.Add", map[string]any{"name": "Local disk", "kind": "local", "path": backups})
	at := time.Now().Add(-time.Hour).Format("15:04") // the next run is a day away
	for i := range 5 {
		db := fmt.Sprintf("idle%d", i)
		pg.CreateDB(b, db)
		call("DatabaseService.Add", map[string]any{"name": db, "host": pg.Host, "port": pg.Port, "dbname": db, "user": pg.User,
			"password": pg.Password, "sslmode": "disable", "storages": []string{"Local disk"}}, true)
		call("ScheduleService.Set", db, map[string]any{"enabled": true, "kind": "daily", "at": at})
	}
	c.Close() // no face connected while it idles

	b.ResetTimer()
	cpu0, start := cpuTime(b, h.PID), time.Now()
	var peak float64
	for time.Since(start) < idleFor() {
		peak = max(peak, pssMiB(b, h.PID))
		time.Sleep(15 * time.Second) // a sample every 15 s
	}
	peak = max(peak, pssMiB(b, h.PID))
	rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", h.PID))
	for _, l := range strings.Split(string(rollup), "\n") {
		if strings.HasPrefix(l, "Pss_Anon:") || strings.HasPrefix(l, "Pss_File:") {
			fmt.Println("  " + strings.Join(strings.Fields(l), " "))
		}
	}
	cpu := (cpuTime(b, h.PID) - cpu0).Seconds() / time.Since(start).Seconds() * 100
	b.StopTimer()
	ok := func(c bool) string {
		if c {
			return "✓"
		}
		return "✗"
	}
	fmt.Printf("agent idle %s, tray on, 5 databases scheduled: PSS at most %.1f MiB (target ≤ 40 %s), CPU %.3f %% (target < 0.1 %s)\n",
		idleFor(), peak, ok(peak <= 40), cpu, ok(cpu < 0.1))
	b.ReportMetric(peak, "PSS-MiB")
	b.ReportMetric(cpu, "CPU-%")
}

// BenchmarkWindowClose: the window open (under Xvfb) with its WebKit
// processes, then closed (SIGTERM, what the desktop's close does to a Wails
// app, through its own handler): how long until every WebKit process is
// gone. Target ≤ 2 s.
func BenchmarkWindowClose(b *testing.B) {
	bin := os.Getenv("PGSAFE_BIN")
	if bin == "" {
		b.Fatal("PGSAFE_BIN must name the built pgsafe binary (make bench sets it)")
	}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		b.Fatal("Xvfb is missing: scripts/setup-deps.sh installs it (apt-get install xvfb)")
	}
	kc := testenv.Keychain(b)
	home, err := os.MkdirTemp("", "pgsafe-bench-window-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(home) })
	b.Setenv("PGSAFE_HOME", home)
	display := startXvfb(b)
	var worst time.Duration
	for range b.N {
		win := exec.Command(bin)
		win.Env = append(os.Environ(), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+kc.BusAddress, "NO_AT_BRIDGE=1")
		if err := win.Start(); err != nil {
			b.Fatal(err)
		}
		var webkit []int
		deadline := time.Now().Add(time.Minute)
		for len(webkit) < 2 && time.Now().Before(deadline) { // the web and network processes
			webkit = children(b, win.Process.Pid, "WebKit")
			time.Sleep(50 * time.Millisecond)
		}
		if len(webkit) < 2 {
			win.Process.Kill()
			b.Fatalf("the window started %d WebKit processes in a minute", len(webkit))
		}
		t0 := time.Now()
		win.Process.Signal(syscall.SIGTERM)
		for alive(webkit) && time.Since(t0) < 30*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		worst = max(worst, time.Since(t0))
		exited := make(chan error, 1)
		go func() { exited <- win.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			win.Process.Kill()
			b.Fatal("the window did not exit within 10 s of SIGTERM")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agent.NewClient(home).Quit(ctx)
	agent.WaitExit(ctx, home)
	mark := "✓"
	if worst > 2*time.Second {
		mark = "✗"
	}
	fmt.Printf("window closed → every WebKit process gone in %d ms at most (target ≤ 2000 %s)\n", worst.Milliseconds(), mark)
	b.ReportMetric(float64(worst.Milliseconds()), "ms-until-WebKit-gone")
}

// waitReady waits until the agent's key and settings are open.
func waitReady(b *testing.B, ctx context.Context, c *agent.Client) {
	b.Helper()
	if ks, err := c.WaitOpen(ctx); err != nil || !ks.Ready {
		b.Fatalf("the agent's key: %+v, %v", ks, err)
	}
}

func pssMiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		b.Fatalf("the agent is gone: %v", err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no Pss in smaps_rollup")
	return 0
}

// cpuTime is the process's user + system time (/proc/PID/stat, in clock
// ticks of 1/100 s on Linux).
func cpuTime(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("the agent is gone: %v", err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// children lists the descendants of pid whose command name starts with prefix.
func children(b *testing.B, pid int, prefix string) []int {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	parent := map[int]int{}
	comm := map[int]string{}
	for _, p := range procs {
		n, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(raw)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		comm[n] = s[open+1 : close]
		if f := strings.Fields(s[close+2:]); len(f) > 1 {
			parent[n], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for n, c := range comm {
		if !strings.HasPrefix(c, prefix) {
			continue
		}
		for p := parent[n]; p > 1; p = parent[p] {
			if p == pid {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

func alive(pids []int) bool {
	for _, p := range pids {
		if syscall.Kill(p, 0) == nil {
			if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); err == nil && !strings.Contains(string(raw), ") Z ") {
				return true
			}
		}
	}
	return false
}

// startXvfb starts a virtual display for the benchmark and returns its name.
func startXvfb(b *testing.B) string {
	b.Helper()
	for n := 90; n < 110; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		cmd := exec.Command("Xvfb", fmt.Sprintf(":%d", n), "-screen", "0", "1280x900x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return fmt.Sprintf(":%d", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.Fatalf("Xvfb :%d did not come up", n)
	}
	b.Fatal("no free X display number in :90–:109")
	return ""
}
