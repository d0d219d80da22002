package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
	"github.com/pgsafe/pgsafe/backend/ui"
)

// noKeychain is the environment of a command that cannot reach the
// keychain: run in its own process it fails to open PgSafe's key, so one
// that succeeds ran its job in the agent.
const noKeychain = "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/pgsafe-test-bus"

// runningAgent is `pgsafe agent --no-tray` in a process of its own.
type runningAgent struct {
	cmd    *exec.Cmd
	log    *lockedBuffer
	exited chan struct{}
}

// startAgent starts the agent and waits until it says its scheduler runs
// (its key and settings are open).
func (f *interruptFixture) startAgent(t *testing.T) *runningAgent {
	t.Helper()
	a := &runningAgent{cmd: exec.Command(os.Args[0], "agent", "--no-tray"), log: &lockedBuffer{}, exited: make(chan struct{})}
	a.cmd.Env = append(os.Environ(), "PGSAFE_TEST_CLI=1", "TMPDIR="+f.tmpdir, "XDG_RUNTIME_DIR="+f.tmpdir)
	stderr, err := a.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			a.log.Write(append(sc.Bytes(), '\n'))
			if !seen && strings.Contains(sc.Text(), "PgSafe scheduler running") {
				seen = true
				close(running)
			}
		}
		a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-a.exited
	})
	select {
	case <-running:
	case <-a.exited:
		t.Fatalf("the agent exited as it started:\n%s", a.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the agent did not start within 60s:\n%s", a.log.String())
	}
	return a
}

// startWith is `pgsafe ARGS` in its own process with extra environment and
// stdin (nil: none).
func (f *interruptFixture) startWith(t *testing.T, stdin *os.File, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], args...), output: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd.Env = append(append(os.Environ(), "PGSAFE_TEST_CLI=1", "TMPDIR="+f.tmpdir, "XDG_RUNTIME_DIR="+f.tmpdir), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
	if stdin != nil {
		c.cmd.Stdin = stdin
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// runSplit runs `pgsafe ARGS` in its own process and returns its exit code,
// stdout and stderr apart.
func (f *interruptFixture) runSplit(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "PGSAFE_TEST_CLI=1", "TMPDIR="+f.tmpdir, "XDG_RUNTIME_DIR="+f.tmpdir), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// waitOutput waits until c has said want.
func waitOutput(t *testing.T, c *child, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(c.output.String(), want) {
		select {
		case <-c.exited:
			t.Fatalf("pgsafe exited before saying %q:\n%s", want, c.output.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgsafe did not say %q within 60s:\n%s", want, c.output.String())
		}
	}
}

func waitExit(t *testing.T, c *child) int {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(90 * time.Second):
		t.Fatalf("pgsafe did not exit within 90s:\n%s", c.output.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

// openPTY opens a pseudo-terminal: what the test writes to master, a
// command reading slave reads as typed on its terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	go io.Copy(io.Discard, m) // the terminal's echo
	return m, s
}

// finishedJobs follows the agent's events and passes on every job.finished.
func finishedJobs(t *testing.T) <-chan ui.EngineEvent {
	t.Helper()
	home := os.Getenv("PGSAFE_HOME")
	c := agent.NewClient(home)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); c.Close() })
	s, err := c.Follow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan ui.EngineEvent, 64)
	go func() {
		defer s.Close()
		for {
			ev, err := s.Next()
			if err != nil {
				return
			}
			var ee ui.EngineEvent
			if ev.Name == ui.EventEngine && json.Unmarshal(ev.Data, &ee) == nil && ee.Type == engine.EventJobFinished {
				out <- ee
			}
		}
	}()
	return out
}

// waitFinished waits for the end of backup id in the agent.
func waitFinished(t *testing.T, finished <-chan ui.EngineEvent, id string) ui.EngineEvent {
	t.Helper()
	for {
		select {
		case ev := <-finished:
			if ev.Job == engine.JobBackup && ev.JobID == id {
				return ev
			}
		case <-time.After(120 * time.Second):
			t.Fatalf("backup %s did not finish in the agent within 120s", id)
		}
	}
}

// backupWriting waits until c follows its backup of shop in the agent (it
// has shown its progress) and the backup writes to both storages; it
// returns the backup.
func (f *interruptFixture) backupWriting(t *testing.T, c *child) backupJSON {
	t.Helper()
	waitOutput(t, c, "dumping")
	f.waitWriting(t, c)
	b := f.latest(t)
	if b.Status != string(store.StatusRunning) {
		t.Fatalf("the newest backup of shop is not running: %+v\n%s", b, c.output.String())
	}
	return b
}

// pgsafeLines are the lines of out that start "pgsafe: ".
func pgsafeLines(out string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "pgsafe: ") {
			l = append(l, line)
		}
	}
	return l
}

// The job commands with an agent running: the job runs in the agent (the
// commands cannot open the key themselves), with the same output and exit
// codes as in their own process; Ctrl+C asks on a terminal whether to
// cancel it or leave it running, and without one leaves it; a restore's
// write credentials are in neither the agent's log nor the settings.
func TestJobsInAgent(t *testing.T) {
	f := newInterruptFixture(t)
	home := os.Getenv("PGSAFE_HOME")
	const restorerPassword = "restorer-pw-7373"
	f.pg.Exec(t, "small", `CREATE ROLE restorer LOGIN CREATEDB PASSWORD '`+restorerPassword+`';
		CREATE ROLE rotated LOGIN PASSWORD 'rotated-pw-1'; GRANT SELECT ON t TO rotated;`)
	if code, out, errOut := runIn(t, "", "db", "add", "--name", "rotated", "--url", roleURL(f.pg, "small", "rotated", "rotated-pw-1"), "--storage", "folder"); code != 0 {
		t.Fatalf("db add rotated: %s%s", out, errOut)
	}
	f.pg.Exec(t, "small", `ALTER ROLE rotated PASSWORD 'rotated-pw-2'`)

	// An agent of another API version answers: say so, run nothing here.
	t.Run("another API version", func(t *testing.T) {
		ln, err := net.Listen("unix", agent.SocketPath(home))
		if err != nil {
			t.Fatal(err)
		}
		go http.Serve(ln, http.NotFoundHandler())
		defer ln.Close()
		code, out, errOut := f.runSplit(t, nil, "backup", "small")
		if code != 1 || out != "" || !strings.Contains(errOut, "speaks another version of its API") {
			t.Fatalf("backup with an agent of another version: exit %d\n%s%s", code, out, errOut)
		}
		if b := f.latest(t); b.ID != "" {
			t.Fatalf("a backup was made: %+v", b)
		}
	})

	if name, _, _, ok := testenv.ServerAccount(t); ok {
		// As root (CI), the agent's throwaway drill servers run as the
		// harness's account, which must be able to enter the agent's TMPDIR.
		t.Setenv("PGSAFE_DRILL_USER", name)
		for _, d := range []string{filepath.Dir(f.tmpdir), f.tmpdir} { // t.TempDir's folders are private
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := f.startAgent(t)
	finished := finishedJobs(t)

	t.Run("backup runs in the agent", func(t *testing.T) {
		code, out, errOut := f.runSplit(t, []string{noKeychain}, "backup", "shop")
		if code != 0 || !strings.HasPrefix(out, "backup ") || !strings.Contains(out, " of shop: ") || !strings.Contains(errOut, "dumping") {
			t.Fatalf("backup shop: exit %d\nstdout %s\nstderr %s", code, out, errOut)
		}
		id := strings.Fields(out)[1]
		if b := f.latest(t); b.ID != id || b.Status != string(store.StatusSucceeded) || b.Origin != store.OriginManual || len(b.Storages) != 2 {
			t.Fatalf("history after the backup in the agent: %+v, want %s", b, id)
		}
		code, out, errOut = f.runSplit(t, []string{noKeychain}, "backup", "small", "--json")
		var bj backupJSON
		if code != 0 || json.Unmarshal([]byte(out), &bj) != nil || bj.Status != "succeeded" || bj.Database != "small" || len(bj.Storages) != 1 {
			t.Fatalf("backup small --json: exit %d\n%s%s", code, out, errOut)
		}
	})

	// The same words and exit codes as in-process (compared after the agent stops).
	agentSaid := map[string][]string{}
	for _, db := range []string{"rotated", "nosuch"} {
		code, out, errOut := f.runSplit(t, []string{noKeychain}, "backup", db)
		if code != 1 || out != "" || len(pgsafeLines(errOut)) == 0 {
			t.Fatalf("backup %s in the agent: exit %d\n%s%s", db, code, out, errOut)
		}
		agentSaid[db] = pgsafeLines(errOut)
		t.Logf("pgsafe backup %s in the agent said:\n%s", db, errOut)
	}
	if !strings.Contains(strings.Join(agentSaid["nosuch"], "\n"), "pgsafe db list") {
		t.Errorf("a missing database lacks the advice: %q", agentSaid["nosuch"])
	}

	t.Run("verify and restore run in the agent", func(t *testing.T) {
		code, out, errOut := f.runSplit(t, []string{noKeychain}, "verify", "latest", "--db", "small")
		if code != 0 || !strings.Contains(out, "verify OK") {
			t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
		}
		// No drill server: a throwaway local PostgreSQL, in the agent.
		code, out, errOut = f.runSplit(t, []string{noKeychain}, "verify", "latest", "--db", "small", "--drill")
		if code != 0 || !strings.Contains(out, "drill OK") || !strings.Contains(out, "row counts match, restored in ") ||
			!strings.Contains(out, "(local throwaway PostgreSQL 15)") {
			t.Fatalf("drill in a throwaway server: exit %d\n%s%s", code, out, errOut)
		}
		// The roles check runs in the agent too: restorer is no superuser, so
		// keeping the owners is refused with the flags that go on.
		code, out, errOut = f.runSplit(t, []string{noKeychain}, "restore", "latest", "--db", "small", "--to", roleURL(f.pg, "small_copy", "restorer", restorerPassword))
		if code != 1 || !strings.Contains(errOut, "the restoring role restorer is not a superuser nor a member of") || !strings.Contains(errOut, "--no-owner --no-privileges") {
			t.Fatalf("restore keeping owners as a non-superuser: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = f.runSplit(t, []string{noKeychain}, "restore", "latest", "--db", "small", "--to", roleURL(f.pg, "small_copy", "restorer", restorerPassword), "--no-owner")
		if code != 0 || !strings.Contains(out, "restored into small_copy") || !strings.Contains(errOut, "restoring…") {
			t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
		}
		var n int
		if err := f.pg.Conn(t, "small_copy").QueryRow(t.Context(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
			t.Fatalf("restored %d rows (%v)", n, err)
		}
		if strings.Contains(out+errOut, restorerPassword) {
			t.Fatal("restore printed the password")
		}
		code, out, errOut = f.runSplit(t, []string{noKeychain}, "verify", "latest", "--db", "small", "--drill-url", f.pg.URL("postgres"))
		if code != 0 || !strings.Contains(out, "drill OK") {
			t.Fatalf("drill: exit %d\n%s%s", code, out, errOut)
		}
	})

	// Ctrl+C on a terminal, then Enter: the command exits, the backup goes
	// on in the agent and succeeds.
	t.Run("SIGINT on a terminal, leave", func(t *testing.T) {
		master, slave := openPTY(t)
		c := f.startWith(t, slave, []string{noKeychain}, "backup", "shop")
		running := f.backupWriting(t, c)
		c.cmd.Process.Signal(syscall.SIGINT)
		waitOutput(t, c, "Cancel the backup of shop, or leave it running in PgSafe's agent? [c/L] ")
		master.Write([]byte("\n"))
		if code := waitExit(t, c); code != 130 || !strings.Contains(c.output.String(), "the backup of shop goes on in PgSafe's agent") {
			t.Fatalf("leave: exit %d\n%s", code, c.output.String())
		}
		t.Logf("pgsafe backup shop said:\n%s", c.output.String())
		if ev := waitFinished(t, finished, running.ID); ev.Outcome != "succeeded" {
			t.Fatalf("the backup left to the agent ended %+v, want %s succeeded", ev, running.ID)
		}
		if b := f.latest(t); b.ID != running.ID || b.Status != string(store.StatusSucceeded) {
			t.Fatalf("history: %+v", b)
		}
	})

	// Ctrl+C on a terminal, then c: the agent cancels it; nothing kept.
	t.Run("SIGINT on a terminal, cancel", func(t *testing.T) {
		master, slave := openPTY(t)
		c := f.startWith(t, slave, []string{noKeychain}, "backup", "shop")
		running := f.backupWriting(t, c)
		c.cmd.Process.Signal(syscall.SIGINT)
		waitOutput(t, c, "[c/L] ")
		master.Write([]byte("c\n"))
		if code := waitExit(t, c); code != 130 || !strings.Contains(c.output.String(), "interrupted by SIGINT (Ctrl+C)") {
			t.Fatalf("cancel: exit %d\n%s", code, c.output.String())
		}
		t.Logf("pgsafe backup shop said:\n%s", c.output.String())
		if ev := waitFinished(t, finished, running.ID); ev.Outcome != "cancelled" {
			t.Fatalf("the cancelled backup ended %+v", ev)
		}
		if b := f.latest(t); b.ID != running.ID || b.Status != string(store.StatusCancelled) {
			t.Fatalf("history after cancel: %+v", b)
		}
		if left := f.temps(t); len(left) > 0 {
			t.Errorf("temporary files left in the folder: %v", left)
		}
		if n := f.uploads(t); n != 0 {
			t.Errorf("%d incomplete multipart uploads left on S3", n)
		}
	})

	// No terminal (a script, a service manager): SIGTERM leaves the job
	// running and exits 143, saying where it goes on.
	t.Run("SIGTERM without a terminal", func(t *testing.T) {
		c := f.startWith(t, nil, []string{noKeychain}, "backup", "shop")
		running := f.backupWriting(t, c)
		c.cmd.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, c); code != 143 {
			t.Fatalf("SIGTERM: exit %d\n%s", code, c.output.String())
		}
		out := c.output.String()
		want := "pgsafe: SIGTERM: the backup of shop goes on in PgSafe's agent (pid " + strconv.Itoa(a.cmd.Process.Pid) + "); `pgsafe backups shop` shows how it ends"
		if !strings.Contains(out, want) || strings.Contains(out, "[c/L]") {
			t.Fatalf("SIGTERM said:\n%s\nwant %s", out, want)
		}
		if ev := waitFinished(t, finished, running.ID); ev.Outcome != "succeeded" {
			t.Fatalf("the backup left to the agent ended %+v", ev)
		}
	})

	if code, out, errOut := runIn(t, "", "agent", "stop"); code != 0 {
		t.Fatalf("agent stop: %s%s", out, errOut)
	}
	<-a.exited

	// The restore's credentials: not in the agent's log, nor in the settings.
	if strings.Contains(a.log.String(), restorerPassword) {
		t.Errorf("the agent logged the restore's password:\n%s", a.log.String())
	}
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(restorerPassword)) {
				t.Errorf("%s holds the restore's password", p)
			}
		}
		return nil
	})

	// No agent: in this process, as before, with the same words.
	for db, said := range agentSaid {
		code, out, errOut := runIn(t, "", "backup", db)
		if code != 1 || out != "" || strings.Join(pgsafeLines(errOut), "\n") != strings.Join(said, "\n") {
			t.Errorf("backup %s in-process: exit %d, said %q; in the agent it said %q", db, code, pgsafeLines(errOut), said)
		}
	}
	// The commands above could not have run here: without the keychain,
	// in-process fails.
	if code, out, errOut := f.runSplit(t, []string{noKeychain}, "backup", "small"); code == 0 {
		t.Fatalf("without the keychain and without an agent, backup small succeeded: the test proves nothing\n%s%s", out, errOut)
	}
}
