package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/ui"
)

// The job commands (backup, verify, restore) run their job in PgSafe's
// agent when one runs for the settings directory, so that closing the
// terminal never stops it, and in this process when none does. They print
// the same progress and result and exit with the same codes either way.

// agentConn is the agent a command runs its job in.
type agentConn struct {
	c     *agent.Client
	hello agent.Hello
}

// jobAgent is the agent that answers for the settings directory, or nil
// when the job runs in this process: no agent runs, or the user gave a key
// of their own (--key-file or PGSAFE_KEY_FILE: the agent holds its own key,
// not that one). An agent of another API version is an error: the job does
// not run in this process beside it.
func jobAgent(env *Env, keyFile string) (*agentConn, error) {
	if engine.KeyFileChosen(keyFile) {
		return nil, nil
	}
	home, err := engine.SettingsDir()
	if err != nil {
		return nil, err
	}
	c := agent.NewClient(home)
	ctx, cancel := context.WithTimeout(env.Ctx, 15*time.Second)
	defer cancel()
	h, err := c.Hello(ctx)
	if errors.Is(err, agent.ErrNotRunning) {
		c.Close()
		return nil, nil
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("PgSafe's agent for %s does not answer: %w", home, err)
		}
		return nil, err
	}
	return &agentConn{c: c, hello: h}, nil
}

// orInAgent is a job command's RunE: inAgent when an agent answers (see
// jobAgent), local otherwise.
func orInAgent(env *Env, keyFile *string, inAgent func(a *agentConn, args []string) error, local func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := jobAgent(env, *keyFile)
		if err != nil {
			return err
		}
		if a == nil {
			return local(cmd, args)
		}
		defer a.c.Close()
		return inAgent(a, args)
	}
}

// backupSource names the backup ref: a .pgsafe file that exists (as an
// absolute path: the agent does not share this working directory), else a
// backup ID or "latest" of db, in the history or in a storage.
func backupSource(ref, db, storageName string) (ui.BackupSource, error) {
	if storageName != "" {
		return ui.BackupSource{Backup: ref, Database: db, Storage: storageName}, nil
	}
	if strings.HasSuffix(ref, ".pgsafe") {
		if _, err := os.Stat(ref); err == nil {
			abs, err := filepath.Abs(ref)
			return ui.BackupSource{File: abs}, err
		}
	}
	return ui.BackupSource{Backup: ref, Database: db}, nil
}

func backupInAgent(env *Env, a *agentConn, db string, asJSON bool) error {
	line := newProgressLine(env.Stderr)
	res, err := followJob(env, a, jobSpec{
		start: func(ctx context.Context) (t ui.JobTicket, err error) {
			return t, a.c.Call(ctx, "BackupService.StartJob", &t, db)
		},
		cancel: "BackupService.CancelJob",
		progress: func(ev ui.EngineEvent) {
			if p := ev.Backup; p != nil {
				line.show(backup.Progress{Phase: backup.Phase(p.Phase), Table: p.Table, RawBytes: p.RawBytes, EstimatedBytes: p.EstimatedBytes,
					StoredBytes: p.StoredBytes, BytesPerSecond: p.BytesPerSecond, Elapsed: seconds(p.ElapsedSeconds), ETA: seconds(p.ETASeconds),
					Storages: p.Storages, Waiting: p.Waiting})
			}
		},
		pause: line.done,
	})
	if err != nil {
		return err
	}
	if res.Backup == nil {
		return fmt.Errorf("PgSafe's agent reported no backup of %s", db)
	}
	return printBackup(env, res.Backup, db, asJSON)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func checkInAgent(env *Env, a *agentConn, req ui.CheckRequest, asJSON bool) error {
	res, err := followJob(env, a, jobSpec{
		start: func(ctx context.Context) (t ui.JobTicket, err error) {
			return t, a.c.Call(ctx, "RestoreService.StartCheck", &t, req)
		},
		cancel: "RestoreService.CancelJob",
	})
	if err != nil {
		return err
	}
	if res.Check == nil {
		return fmt.Errorf("PgSafe's agent reported no result of the %s of backup %s", res.Job, res.JobID)
	}
	return printCheck(env, res.JobID, res.Check, asJSON)
}

func restoreInAgent(env *Env, a *agentConn, req ui.RestoreJobRequest, asJSON bool) error {
	last := ""
	res, err := followJob(env, a, jobSpec{
		start: func(ctx context.Context) (t ui.JobTicket, err error) {
			return t, a.c.Call(ctx, "RestoreService.StartRestoreJob", &t, req)
		},
		cancel: "RestoreService.CancelJob",
		progress: func(ev ui.EngineEvent) {
			if p := ev.Restore; p != nil && !asJSON && p.Phase != last {
				last = p.Phase
				fmt.Fprintf(env.Stderr, "%s…\n", p.Phase)
			}
		},
	})
	if err != nil {
		return err
	}
	if res.Restore == nil {
		return fmt.Errorf("PgSafe's agent reported no result of the restore of backup %s", res.JobID)
	}
	return printRestore(env, res.JobID, res.Restore, req.NoOwner, asJSON)
}

// jobSpec is how to start, show and cancel one kind of job in the agent.
type jobSpec struct {
	start    func(ctx context.Context) (ui.JobTicket, error)
	cancel   string               // the method that cancels it by ticket
	progress func(ui.EngineEvent) // the job's job.progress events (nil: none shown)
	pause    func()               // ends the progress output before a question or a message
}

// jobEnd is what followJob's loop reads: an event, or the stream's end.
type jobEnd struct {
	ev  agent.Event
	err error
}

// followJob starts a job in the agent and follows it on the agent's event
// stream to its result. A job that failed or was cancelled is an error
// (exit 1, or 128+signal when the user cancelled it here).
//
// The first SIGINT on a terminal asks whether to cancel the job or leave
// it running (leave is the default: a closed terminal never cancels);
// SIGTERM, or SIGINT without a terminal, leaves it. Leaving exits 128+signal
// (130, 143) saying that the job goes on in the agent. A second signal
// exits at once, leaving the job to the agent.
func followJob(env *Env, a *agentConn, spec jobSpec) (ui.JobResult, error) {
	ctx, cancel := context.WithCancel(env.Ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	stream, err := a.c.Follow(ctx)
	if err != nil {
		return ui.JobResult{}, err
	}
	defer stream.Close()
	events := make(chan jobEnd, 1024)
	go func() {
		for {
			ev, err := stream.Next()
			select {
			case events <- jobEnd{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	if err := waitKeyOpen(ctx, a, sigs); err != nil {
		return ui.JobResult{}, err
	}
	t, err := spec.start(ctx)
	if err != nil {
		return ui.JobResult{}, remoteError(err)
	}
	what := describeJob(t)
	paused := false
	pause := func() {
		if !paused && spec.pause != nil {
			spec.pause()
		}
		paused = true
	}
	var first os.Signal // the signal that interrupted the command
	asking, cancelling := false, false
	answers := make(chan string, 1)
	for {
		select {
		case e := <-events:
			if e.err != nil {
				pause()
				return ui.JobResult{}, fmt.Errorf("PgSafe's agent stopped before %s ended (%v)%s", what, e.err, followHint(t))
			}
			switch e.ev.Name {
			case ui.EventEngine:
				var ev ui.EngineEvent
				if json.Unmarshal(e.ev.Data, &ev) == nil && ev.Type == engine.EventJobProgress && ev.Job == t.Job && ev.JobID == t.JobID &&
					first == nil && spec.progress != nil {
					spec.progress(ev)
				}
			case ui.EventJobResult:
				var res ui.JobResult
				if json.Unmarshal(e.ev.Data, &res) != nil || res.Ticket != t.Ticket {
					continue
				}
				pause()
				if asking {
					fmt.Fprintln(env.Stderr)
				}
				if res.Error == "" {
					return res, nil
				}
				err := agentError(res.Error, errors.New(res.Error))
				if res.Roles != nil {
					err = res.Roles
				}
				if cancelling && res.Cancelled {
					i := interrupted{first}
					return res, exitError{code: i.exitCode(), err: fmt.Errorf("%s: %w", i.Error(), err)}
				}
				return res, err
			}
		case sig := <-sigs:
			pause()
			if first != nil {
				fmt.Fprintln(env.Stderr)
				return ui.JobResult{}, leftRunning(a, t, sig, signalName(sig)+" again")
			}
			first = sig
			if sig != os.Interrupt || !isTerminal(env.Stdin) {
				return ui.JobResult{}, leftRunning(a, t, sig, signalName(sig))
			}
			asking = true
			if spec.pause == nil && isTerminal(env.Stderr) {
				fmt.Fprintln(env.Stderr) // past the terminal's ^C
			}
			fmt.Fprintf(env.Stderr, "Cancel %s, or leave it running in PgSafe's agent? [c/L] ", what)
			go func() { answers <- readAnswer(env.Stdin) }()
		case ans := <-answers:
			asking = false
			if ans != "c" && ans != "cancel" {
				return ui.JobResult{}, leftRunning(a, t, first, signalName(first))
			}
			if err := a.c.Call(ctx, spec.cancel, nil, t.Ticket); err != nil {
				return ui.JobResult{}, fmt.Errorf("cancel %s: %w", what, remoteError(err))
			}
			cancelling = true
			fmt.Fprintf(env.Stderr, "pgsafe: cancelling %s (again to quit at once)\n", what)
		}
	}
}

// waitKeyOpen waits, if the agent is still opening its key and settings
// (it has just started), until it has. Not ready is no error here: the
// job's start says why.
func waitKeyOpen(ctx context.Context, a *agentConn, sigs <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := a.c.WaitOpen(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		return remoteError(err)
	case sig := <-sigs:
		i := interrupted{sig}
		return exitError{code: i.exitCode(), err: i}
	}
}

// leftRunning is the exit of a command that leaves its job to the agent.
func leftRunning(a *agentConn, t ui.JobTicket, sig os.Signal, why string) error {
	return exitError{code: 128 + signalNumber(sig),
		err: fmt.Errorf("%s: %s goes on in PgSafe's agent (pid %d)%s", why, describeJob(t), a.hello.PID, followHint(t))}
}

// followHint says where to see how a job ends.
func followHint(t ui.JobTicket) string {
	if t.Job == engine.JobBackup {
		return fmt.Sprintf("; `pgsafe backups %s` shows how it ends, PgSafe's window can cancel it", t.Database)
	}
	return "; PgSafe's window shows how it ends and can cancel it"
}

// describeJob: "the backup of shop", "the restore of backup 7f3c…".
func describeJob(t ui.JobTicket) string {
	if t.Job == engine.JobBackup {
		return "the backup of " + t.Database
	}
	return fmt.Sprintf("the %s of backup %s", t.Job, t.JobID)
}

func isTerminal(rw any) bool {
	f, ok := rw.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readAnswer reads a line; "" at the end of input (a closed terminal).
func readAnswer(r io.Reader) string {
	line, _ := bufio.NewReader(r).ReadString('\n')
	return strings.ToLower(strings.TrimSpace(line))
}

// notFoundMessage is engine.NotFoundError's message.
var notFoundMessage = regexp.MustCompile(`^not found: no (database|storage|notifier) named ("(?:[^"\\]|\\.)*")$`)

// adviceFromAgent is an error the agent returned with the advice the
// command gives when the same error happens in its own process.
type adviceFromAgent struct {
	err    error
	advice string
}

func (a adviceFromAgent) Error() string { return a.err.Error() }
func (a adviceFromAgent) Unwrap() error { return a.err }

// remoteError is an error a call to the agent returned, as this process
// would have it (agentError).
func remoteError(err error) error {
	var re *agent.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	return agentError(re.Message, err)
}

// agentError is err, which the agent worded msg, as this process would
// have it: a missing database, storage or notifier is an
// engine.NotFoundError again, and a backup of another key gets the same
// advice, as when the command runs here.
func agentError(msg string, err error) error {
	if strings.Contains(msg, "this backup needs key ") { // keys.WrongKeyError
		return adviceFromAgent{err: err, advice: wrongKeyAdvice}
	}
	m := notFoundMessage.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	name, uerr := strconv.Unquote(m[2])
	if uerr != nil {
		return err
	}
	kind := m[1]
	if kind == "database" {
		kind = "db"
	}
	return &engine.NotFoundError{Kind: kind, Name: name}
}
