package pgtools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DumpOptions tune one pg_dump run.
type DumpOptions struct {
	// Snapshot is a snapshot exported by another session (pg_export_snapshot),
	// so the dump sees exactly the data that session saw (--snapshot).
	Snapshot string
	// LockWaitTimeout bounds the wait for a table's shared lock
	// (--lock-wait-timeout); 0 waits as long as pg_dump does by default.
	LockWaitTimeout time.Duration
	// OnTable, if set, is called with each table whose data pg_dump starts to
	// dump ("public.orders"), from pg_dump's --verbose output.
	OnTable func(table string)
}

// stderrKeep bounds how much of a client program's stderr is kept for its
// error message (the end is kept: the error is at the end).
const stderrKeep = 16 << 10

// Dump starts pg_dump (custom format, its own compression off: PgSafe
// compresses) for conn and returns the archive as a stream. The final Read
// returns io.EOF only if pg_dump exited successfully; if it failed, the Read
// returns a *ToolError saying why, so a stream cut short never looks complete.
// Close stops pg_dump if it is still running (cancelling the context does too)
// and drops its passfile.
func Dump(ctx context.Context, pgDump string, conn Conn, opts DumpOptions) (io.ReadCloser, error) {
	args := []string{"--format=custom", "--compress=0", "--no-password", "--verbose"}
	if opts.Snapshot != "" {
		args = append(args, "--snapshot="+opts.Snapshot)
	}
	if opts.LockWaitTimeout > 0 {
		args = append(args, fmt.Sprintf("--lock-wait-timeout=%dms", opts.LockWaitTimeout.Milliseconds()))
	}
	return start(ctx, "pg_dump", pgDump, args, conn, nil, func(line string) {
		if opts.OnTable == nil {
			return
		}
		if t, ok := dumpedTable(line); ok {
			opts.OnTable(t)
		}
	})
}

// dumpedTable reads `pg_dump: dumping contents of table "public.orders"`.
func dumpedTable(line string) (string, bool) {
	_, rest, ok := strings.Cut(line, "dumping contents of table ")
	if !ok {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(rest), `"`), true
}

// toolRun is a running client program whose stdout is read by the caller.
type toolRun struct {
	ctx     context.Context
	tool    string
	cmd     *exec.Cmd
	stdout  io.ReadCloser
	cleanup func()

	stderrDone chan struct{}
	stderr     *tailBuffer

	stopped atomic.Bool // Close stopped the program
	ended   atomic.Bool // wait has returned: waitErr is final
	once    sync.Once
	waitErr error
}

// start runs exe with args, connection environment from conn, stdin (may be
// nil), and each stderr line passed to onLine.
func start(ctx context.Context, tool, exe string, args []string, conn Conn, stdin io.Reader, onLine func(string)) (*toolRun, error) {
	secret, err := newPassSecret(conn.Password)
	if err != nil {
		return nil, err
	}
	service, err := newServiceSecret(conn.SSLPassword)
	if err != nil {
		secret.close()
		return nil, err
	}
	removePass := func() { secret.close(); service.close() }
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = conn.environ(secret.attach(cmd))
	if file := service.attach(cmd); file != "" {
		cmd.Env = append(cmd.Env, "PGSERVICEFILE="+file, "PGSERVICE="+serviceName)
	}
	cmd.Stdin = stdin
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return terminate(cmd) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		removePass()
		return nil, err
	}
	growPipe(stdout)
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		removePass()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		removePass()
		return nil, fmt.Errorf("start %s (%s): %w", tool, exe, err)
	}
	secret.started()
	service.started()
	r := &toolRun{ctx: ctx, tool: tool, cmd: cmd, stdout: stdout, cleanup: removePass,
		stderrDone: make(chan struct{}), stderr: &tailBuffer{max: stderrKeep}}
	go func() {
		defer close(r.stderrDone)
		sc := bufio.NewScanner(stderrPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			r.stderr.add(line)
			if onLine != nil {
				onLine(line)
			}
		}
		io.Copy(io.Discard, stderrPipe) // an over-long line: keep draining
	}()
	return r, nil
}

// Read reads the program's stdout; at its end it waits for the program and
// turns a failure into a *ToolError.
func (r *toolRun) Read(p []byte) (int, error) {
	if r.ended.Load() { // stdout is closed once the program was waited for
		if r.waitErr != nil {
			return 0, r.waitErr
		}
		return 0, io.EOF
	}
	n, err := r.stdout.Read(p)
	if errors.Is(err, io.EOF) {
		if werr := r.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// Close stops the program if it is still running, waits for it, and removes
// its passfile. It returns the program's failure, if any, unless the program
// was stopped by Close itself.
func (r *toolRun) Close() error {
	select {
	case <-r.stderrDone: // the program has ended (its stderr closed)
	default:
		r.stopped.Store(true)
		terminate(r.cmd)
	}
	err := r.wait()
	if r.stopped.Load() {
		return nil
	}
	return err
}

func (r *toolRun) wait() error {
	r.once.Do(func() {
		<-r.stderrDone
		err := r.cmd.Wait()
		r.cleanup()
		if err != nil && r.ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", r.ctx.Err(), err) // it was stopped for the context
		}
		if err != nil {
			r.waitErr = newToolError(r.tool, err, r.stderr.String())
		}
		r.ended.Store(true)
	})
	return r.waitErr
}

// tailBuffer keeps the last max bytes of the lines added.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, line...)
	t.b = append(t.b, '\n')
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
