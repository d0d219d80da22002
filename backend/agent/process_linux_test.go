package agent_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// agentCommand runs this test binary as `pgsafe agent --no-tray`.
func agentCommand(t *testing.T, home string) []string {
	t.Helper()
	t.Setenv("PGSAFE_TEST_AS_PGSAFE", "1")
	t.Setenv("PGSAFE_HOME", home)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{self, "agent", "--no-tray"}
}

// A face that finds no agent starts one; two faces at once share one; an
// agent killed with -9 leaves a socket file the next agent replaces; Quit
// stops it and WaitExit sees it gone.
func TestEnsureStartsOneAgent(t *testing.T) {
	testenv.Keychain(t)
	home := shortTemp(t)
	cmd := agentCommand(t, home)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	pids := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, h, err := agent.Ensure(ctx, home, cmd)
			if err == nil {
				defer c.Close()
			}
			pids[i], errs[i] = h.PID, err
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || pids[0] != pids[1] || pids[0] == 0 {
		t.Fatalf("two faces at once: pids %v, errors %v; want one agent for both", pids, errs)
	}
	pid := pids[0]
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	c := agent.NewClient(home)
	defer c.Close()

	// It opened the key and settings: the window's services answer.
	if ks, err := c.WaitOpen(ctx); err != nil || !ks.Ready {
		t.Fatalf("the agent's key: %+v, %v\n%s", ks, err, readLog(home))
	}

	// No TCP listener in the agent's process.
	if l := processTCPListeners(t, pid); len(l) > 0 {
		t.Fatalf("the agent listens on TCP: %v", l)
	}

	// kill -9: the socket file stays behind; the next face starts a new agent.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := agent.WaitExit(ctx, home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(agent.SocketPath(home)); err != nil {
		t.Fatalf("after kill -9 the socket file is gone (%v): the stale-socket path is not tested", err)
	}
	c2, h2, err := agent.Ensure(ctx, home, cmd)
	if err != nil {
		t.Fatalf("no agent after the old one was killed: %v\n%s", err, readLog(home))
	}
	defer c2.Close()
	if h2.PID == pid {
		t.Fatalf("the killed agent (pid %d) answered", pid)
	}
	t.Cleanup(func() { syscall.Kill(h2.PID, syscall.SIGKILL) })

	// Quit: it stops, its socket goes.
	if err := c2.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agent.WaitExit(ctx, home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(agent.SocketPath(home)); !os.IsNotExist(err) {
		t.Errorf("the socket is still there after the agent stopped: %v", err)
	}
	if _, err := c2.Hello(ctx); err == nil {
		t.Error("an agent still answers after Quit")
	}
	if log := readLog(home); !strings.Contains(log, "stopping: asked by a face") || !strings.Contains(log, "stopped cleanly") {
		t.Errorf("the agent's log does not say it stopped cleanly:\n%s", log)
	}
}

// A second agent for the same settings refuses at once, naming the first.
func TestOneAgentPerSettings(t *testing.T) {
	testenv.Keychain(t)
	home := shortTemp(t)
	cmd := agentCommand(t, home)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, h, err := agent.Ensure(ctx, home, cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Cleanup(func() { syscall.Kill(h.PID, syscall.SIGKILL) })
	out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another PgSafe (pid "+strconv.Itoa(h.PID)+")") {
		t.Fatalf("a second agent: %v\n%s", err, out)
	}
	c.Quit(ctx)
	agent.WaitExit(ctx, home)
}

func readLog(home string) string {
	b, _ := os.ReadFile(filepath.Join(home, agent.LogName))
	return string(b)
}

// processTCPListeners lists the TCP sockets of process pid in LISTEN state.
func processTCPListeners(t *testing.T, pid int) []string {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	inodes := map[string]bool{}
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		t.Fatalf("no socket among process %d's files: the check cannot see the endpoint", pid)
	}
	var out []string
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && fs[3] == "0A" && inodes[fs[9]] {
				out = append(out, fs[1])
			}
		}
	}
	return out
}
