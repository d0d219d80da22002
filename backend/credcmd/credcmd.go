// Package credcmd runs a database's credentials command: a program the user
// names that prints a connection URL or a password at the moment PgSafe
// connects (heroku pg:credentials:url, aws rds generate-db-auth-token,
// op read, vault kv get). What it prints is handed back for one connection
// and never kept; the command line itself is a secret the caller keeps
// sealed. Nothing here logs, and no error quotes the command line or what
// it printed.
package credcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
)

// Prefix starts every error of a credentials command, so the status model
// can tell it from a failure of the server (status.CodeCredCommand).
const Prefix = "the credentials command"

// Timeout bounds one run when Options leave it 0.
const Timeout = 30 * time.Second

// MaxOutput caps what a command may print on stdout: a URL or a token is far
// shorter; more is a mistake (a whole config, a binary).
const MaxOutput = 64 << 10

// maxStderr is how much of stderr is kept to explain a failure.
const maxStderr = 4 << 10

var errTimedOut = errors.New("the credentials command's time limit")

// Options tune a run; the zero value is what PgSafe uses.
type Options struct {
	Timeout time.Duration // 0: Timeout
}

// Split turns a command line into argv the way a POSIX shell splits words
// (quotes and backslashes), without a shell: no variables, no globbing, no
// pipes. A line that needs a shell says so; the user can write one
// explicitly (sh -c '… | …'), which then runs as any other program. Errors
// never quote the line.
func Split(line string) ([]string, error) { return split(line, runtime.GOOS == "windows") }

// split is Split; on Windows a backslash is a path separator, not an
// escape (C:\Tools\op.exe), so it is kept as written.
func split(line string, windows bool) ([]string, error) {
	if windows {
		line = literalBackslashes(line)
	}
	if strings.TrimSpace(line) == "" {
		return nil, errors.New(Prefix + " is empty: give the program to run and its arguments")
	}
	p := shellwords.NewParser() // ParseEnv and ParseBacktick off: nothing is expanded or run
	argv, err := p.Parse(line)
	if err != nil {
		return nil, errors.New(Prefix + " has an unclosed quote or a trailing backslash: check its quoting")
	}
	if p.Position >= 0 {
		op := strings.TrimSpace(line[p.Position:])
		if op != "" {
			op = op[:1]
		}
		return nil, fmt.Errorf("%s uses the shell's %q, but PgSafe runs it without a shell: write the shell yourself, e.g. sh -c '… %s …'", Prefix, op, op)
	}
	if len(argv) == 0 {
		return nil, errors.New(Prefix + " is empty: give the program to run and its arguments")
	}
	if strings.Contains(argv[0], "=") && !strings.ContainsAny(argv[0], `/\`) {
		return nil, errors.New(Prefix + " starts with a variable assignment (NAME=value), which needs a shell: set it in sh -c '…', or in the environment PgSafe runs in")
	}
	return argv, nil
}

// literalBackslashes doubles every backslash outside single quotes (where
// the parser keeps them as they are), so that the parser reads each as one.
func literalBackslashes(line string) string {
	var b strings.Builder
	single, double := false, false
	for _, r := range line {
		switch {
		case r == '\'' && !double:
			single = !single
		case r == '"' && !single:
			double = !double
		case r == '\\' && !single:
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Run runs line and returns what it printed on stdout, without the
// surrounding white space. It fails with an *Error when the command cannot
// start, exits non-zero, is killed, runs past the timeout, or prints
// nothing or too much. ctx ending stops the command and its children.
func Run(ctx context.Context, line string, opts Options) (string, error) {
	argv, err := Split(line)
	if err != nil {
		return "", err
	}
	limit := opts.Timeout
	if limit <= 0 {
		limit = Timeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, errTimedOut)
	defer cancel()

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = Environ(os.Environ())
	cmd.Stdin = nil // reads see end of input: nobody is there to type
	var stdout capped
	stdout.limit = MaxOutput
	var stderr capped
	stderr.limit = maxStderr
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	// A child that keeps stdout open after the group was killed (it left
	// the group) does not hold Run up for longer than this.
	cmd.WaitDelay = 2 * time.Second

	runErr := cmd.Run()
	out := stdout.buf.String()
	fail := &Error{program: filepath.Base(argv[0]), secrets: secretsOf(argv, out)}
	switch {
	case context.Cause(ctx) == errTimedOut:
		fail.TimedOut, fail.limit = true, limit
		return "", fail
	case ctx.Err() != nil:
		return "", fmt.Errorf("%s was stopped before it finished: %w", Prefix, context.Cause(ctx))
	case runErr != nil:
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			fail.ExitCode = ee.ExitCode()
			fail.signal = signalOf(ee)
			fail.Stderr = fail.redact(stderr.buf.String())
			return "", fail
		}
		if errors.Is(runErr, exec.ErrWaitDelay) {
			break // it exited; a child kept its output open
		}
		fail.NotStarted = true
		fail.startErr = startWords(runErr)
		return "", fail
	}
	if stdout.over {
		fail.TooMuch = true
		return "", fail
	}
	out = strings.TrimSpace(out)
	if out == "" {
		fail.Empty = true
		fail.Stderr = fail.redact(stderr.buf.String())
		return "", fail
	}
	return out, nil
}

// Error is a credentials command that did not give credentials. Its text
// starts with Prefix and never holds the command line's arguments or what
// it printed on stdout; its stderr is kept with both redacted.
type Error struct {
	ExitCode   int    // the exit status, when it exited non-zero
	TimedOut   bool   // stopped after the time limit
	NotStarted bool   // the program could not be started
	Empty      bool   // it exited 0 and printed nothing
	TooMuch    bool   // it printed more than MaxOutput
	Stderr     string // its error output, redacted (first lines only)

	program  string
	signal   string
	startErr string
	limit    time.Duration
	secrets  []string
}

func (e *Error) Error() string {
	var msg string
	switch {
	case e.TimedOut:
		msg = fmt.Sprintf("%s did not finish within %s and was stopped: check that it needs no input (a login prompt, a confirmation), or sign in to its tool first", Prefix, e.limit.Round(time.Second))
	case e.NotStarted:
		msg = fmt.Sprintf("%s could not start %s: %s", Prefix, e.program, e.startErr)
	case e.signal != "":
		msg = fmt.Sprintf("%s was killed by %s", Prefix, e.signal)
	case e.ExitCode != 0:
		msg = fmt.Sprintf("%s exited %d", Prefix, e.ExitCode)
	case e.TooMuch:
		return fmt.Sprintf("%s printed more than %d KiB: it should print only a connection URL or a password", Prefix, MaxOutput>>10)
	case e.Empty:
		msg = Prefix + " printed nothing: it should print a postgres:// URL, key=value settings or a password"
	}
	if s := firstLines(e.Stderr, 2); s != "" {
		msg += ": " + s
	}
	return msg
}

// redact removes from s every secret of the run (the arguments, what it
// printed) and anything that looks like a password.
func (e *Error) redact(s string) string {
	for _, v := range e.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return Redact(s)
}

var (
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(?i)\b(password|sslpassword|token|secret)(\s*[=:]\s*)('[^']*'|"[^"]*"|\S+)`)
)

// Redact hides what looks like a password in s: a URL's user:password@ and
// password=… (token=…, secret=…) settings.
func Redact(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}[redacted]@")
	return kvPassword.ReplaceAllString(s, "${1}${2}[redacted]")
}

// secretsOf are the strings a failure's stderr must not show: every
// argument after the program (a vault path, a secret reference, a token
// passed as a flag) and every line the command printed on stdout, longest
// first so a line is not half-replaced by a shorter one.
func secretsOf(argv []string, stdout string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	for _, a := range argv[1:] {
		add(a)
		if _, v, ok := strings.Cut(a, "="); ok {
			add(v)
		}
	}
	for _, l := range strings.Split(stdout, "\n") {
		add(strings.TrimSpace(l))
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if len(out[j]) > len(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Environ is PgSafe's environment without the variables that carry its
// own secrets: libpq's password (PGPASSWORD) and every PGSAFE_ setting
// (the key file's path among them). The rest, such as the cloud tools'
// credentials (AWS_PROFILE, VAULT_ADDR), the command needs.
func Environ(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch up := strings.ToUpper(k); {
		case up == "PGPASSWORD", strings.HasPrefix(up, "PGSAFE_"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// startWords says why a program did not start, without its arguments.
func startWords(err error) string {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "it was not found: install it, or give its full path"
	case errors.Is(err, os.ErrPermission):
		return "permission denied: make the file executable"
	case errors.Is(err, os.ErrNotExist):
		return "no such file: check the program's path"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "it could not be run"
}

// firstLines is s's first n non-empty lines, joined by " / ".
func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
			if len(out) == n {
				break
			}
		}
	}
	return strings.Join(out, " / ")
}

// capped keeps the first limit bytes written to it and notes the rest.
type capped struct {
	buf   bytes.Buffer
	limit int
	over  bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if len(p) > room {
		c.over = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil // keep reading, so the program is not blocked on a full pipe
	}
	return c.buf.Write(p)
}

var _ io.Writer = (*capped)(nil)

// ConnString picks the connection string from what a URL command printed:
// all of it when it is one line, else the one line that is a postgres://
// URL (heroku pg:credentials:url prints words around it). The caller
// parses it.
func ConnString(out string) (string, error) {
	out = strings.TrimSpace(out)
	if !strings.Contains(out, "\n") {
		return out, nil
	}
	var found []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.Trim(strings.TrimSpace(l), `"'`)
		if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", errors.New(Prefix + " printed several lines and none is a postgres:// URL: it should print one URL or one line of key=value settings")
	}
	return "", errors.New(Prefix + " printed several postgres:// URLs: it should print only the one to connect to")
}

// Password is the password a password command printed: its one line.
func Password(out string) (string, error) {
	out = strings.TrimRight(out, "\r\n")
	if strings.ContainsAny(out, "\r\n") {
		return "", errors.New(Prefix + " printed several lines: a password command should print only the password")
	}
	return out, nil
}
