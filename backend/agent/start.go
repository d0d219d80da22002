package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
)

// LogName is the agent's log in the settings directory when a face started
// it (it has no terminal): its stderr, kept to about LogLimit bytes.
const LogName = "agent.log"

// LogLimit: past this size the log is moved to agent.log.1 when an agent starts.
const LogLimit = 4 << 20

// readyEnv asks an agent to write readyLine on its standard output once its
// endpoint listens (Ensure reads it; no polling).
const (
	readyEnv  = "PGSAFE_AGENT_NOTIFY_READY"
	readyLine = "pgsafe-agent-ready"
)

// Ensure returns a client of the agent of home, starting one with command
// (this executable and "agent") when none answers. It returns once the new
// agent listens: its key and settings may still be opening (SystemService.
// KeyStatus says so, and Client.WaitOpen waits for it). Faces calling Ensure
// at once take turns (a lock in home): the first starts the agent, the
// others find it listening.
func Ensure(ctx context.Context, home string, command []string) (*Client, Hello, error) {
	c := NewClient(home)
	release, err := waitLock(ctx, filepath.Join(home, startLockName))
	if err != nil {
		return c, Hello{}, fmt.Errorf("wait for another window or command starting PgSafe's agent: %w", err)
	}
	defer release()
	h, err := c.Hello(ctx)
	if err == nil || !errors.Is(err, ErrNotRunning) {
		return c, h, err
	}
	if serr := start(ctx, home, command); serr != nil {
		// An agent started otherwise (at login, `pgsafe run`) may have won.
		if h, err := c.Hello(ctx); err == nil {
			return c, h, nil
		}
		return c, h, serr
	}
	h, err = c.Hello(ctx)
	return c, h, err
}

// start runs command detached (its own session, no terminal; stderr to the
// log) and waits until it says it listens, or exits.
func start(ctx context.Context, home string, command []string) error {
	if len(command) == 0 {
		return errors.New("no command to start PgSafe's agent with")
	}
	logPath := filepath.Join(home, LogName)
	logf, err := OpenLog(home)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), readyEnv+"=1")
	cmd.Stderr = logf
	cmd.SysProcAttr = detached()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start PgSafe's agent (%s): %w", command[0], err)
	}
	exited := make(chan error, 1)
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == readyLine {
				ok = true
				break
			}
		}
		ready <- ok
		io.Copy(io.Discard, out) // until the agent exits: it writes nothing more
		exited <- cmd.Wait()
	}()
	select {
	case ok := <-ready:
		if ok {
			return nil
		}
		err := <-exited
		return fmt.Errorf("PgSafe's agent stopped as it started (%v)%s", err, logTail(logPath))
	case <-ctx.Done():
		return fmt.Errorf("PgSafe's agent did not start in time: %w%s", ctx.Err(), logTail(logPath))
	}
}

// OpenLog opens the agent's log in home (LogName) for appending, first
// moving a log past LogLimit to LogName+".1": the log of an agent that has
// no terminal (started by a face, or at login on Windows).
func OpenLog(home string) (*os.File, error) {
	path := filepath.Join(home, LogName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > LogLimit {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, fmt.Errorf("rotate the agent's log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the agent's log: %w", err)
	}
	return f, nil
}

// logTail is the last lines of the agent's log, for an error.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return ": " + strings.TrimSpace(string(bytes.Join(lines, []byte(" / "))))
}

// NotifyReady tells a face waiting in Ensure that the endpoint listens (a
// no-op when the agent was not started by Ensure), then points standard
// output elsewhere: nothing more goes there.
func NotifyReady() {
	if os.Getenv(readyEnv) == "" {
		return
	}
	os.Unsetenv(readyEnv)
	// A face that went away meanwhile closed the pipe: the write must not
	// end the agent (Go exits on SIGPIPE from a write to fd 1).
	signal.Ignore(syscall.SIGPIPE)
	fmt.Fprintln(os.Stdout, readyLine)
	detachStdout()
	signal.Reset(syscall.SIGPIPE)
}

// WaitExit waits until the agent of home has exited: its lock, held for its
// whole life, is free.
func WaitExit(ctx context.Context, home string) error {
	release, err := waitLock(ctx, filepath.Join(home, LockName))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("PgSafe's agent did not stop in time: %w", ctx.Err())
		}
		return err
	}
	release()
	return nil
}

// HeadlessSuffix names the headless build beside the app's binary
// (pgsafe-headless next to pgsafe; packages install both).
const HeadlessSuffix = "-headless"

// Program is the executable to run the agent with, for the window's
// executable exe: the headless build beside it when there is one, since it
// loads no GTK or WebKit libraries (an idle agent holds about half the
// memory), else exe itself. In the macOS app bundle it is the agent helper
// app's executable (backend/internal/macapp), whose Info.plist keeps the
// agent out of the Dock.
func Program(exe string) string {
	if agent, ok := macapp.AgentFor(exe); ok {
		return agent
	}
	dir, name := filepath.Split(exe)
	ext := filepath.Ext(name)
	if strings.HasSuffix(strings.TrimSuffix(name, ext), HeadlessSuffix) {
		return exe
	}
	sibling := filepath.Join(dir, strings.TrimSuffix(name, ext)+HeadlessSuffix+ext)
	if fi, err := os.Stat(sibling); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
		return sibling
	}
	return exe
}

// WindowProgram is the executable that opens the window, for the agent's
// executable exe: the app beside a headless build (in the macOS bundle, the
// window app around the agent helper), else exe itself.
func WindowProgram(exe string) string {
	if window, ok := macapp.WindowFor(exe); ok {
		return window
	}
	dir, name := filepath.Split(exe)
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if !strings.HasSuffix(base, HeadlessSuffix) {
		return exe
	}
	return filepath.Join(dir, strings.TrimSuffix(base, HeadlessSuffix)+ext)
}
