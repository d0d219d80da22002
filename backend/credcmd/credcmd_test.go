package credcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable sh script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "creds.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		line string
		argv []string
		err  string
	}{
		{`op read "op://Prod/DB/password"`, []string{"op", "read", "op://Prod/DB/password"}, ""},
		{`vault kv get -field=password 'secret/my db'`, []string{"vault", "kv", "get", "-field=password", "secret/my db"}, ""},
		{`sh -c 'heroku pg:credentials:url -a app | grep postgres://'`, []string{"sh", "-c", "heroku pg:credentials:url -a app | grep postgres://"}, ""},
		{`heroku pg:credentials:url -a app | grep postgres`, nil, `uses the shell's "|"`},
		{`get-token > /tmp/x`, nil, `uses the shell's ">"`},
		{`a; b`, nil, `uses the shell's ";"`},
		{`op read "unclosed`, nil, "unclosed quote"},
		{"   ", nil, "is empty"},
		{`TOKEN=abc get-url`, nil, "variable assignment"},
	} {
		argv, err := Split(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), Prefix) {
				t.Errorf("Split(%q) = %q, %v; want an error with %q", tc.line, argv, err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "unclosed")) && tc.err != "unclosed quote" {
				t.Errorf("Split(%q): the error quotes the line: %v", tc.line, err)
			}
			continue
		}
		if err != nil || strings.Join(argv, "\x00") != strings.Join(tc.argv, "\x00") {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.line, argv, err, tc.argv)
		}
	}
}

// On Windows a backslash is part of a path, not an escape.
func TestSplitWindowsPaths(t *testing.T) {
	argv, err := split(`C:\Tools\op.exe read "op://Infra/Billing DB/password"`, true)
	if err != nil || len(argv) != 3 || argv[0] != `C:\Tools\op.exe` || argv[2] != "op://Infra/Billing DB/password" {
		t.Fatalf("split = %q, %v", argv, err)
	}
	argv, err = split(`"C:\Program Files\Vault\vault.exe" kv get -field=password secret\crm`, true)
	if err != nil || len(argv) != 5 || argv[0] != `C:\Program Files\Vault\vault.exe` || argv[4] != `secret\crm` {
		t.Fatalf("split = %q, %v", argv, err)
	}
	argv, err = split(`'C:\Tools\get creds.cmd' --vault 'secret\crm'`, true)
	if err != nil || len(argv) != 3 || argv[0] != `C:\Tools\get creds.cmd` || argv[2] != `secret\crm` {
		t.Fatalf("single quotes: %q, %v", argv, err)
	}
	if argv, _ := split(`a\ b`, false); len(argv) != 1 || argv[0] != "a b" {
		t.Fatalf("POSIX: a backslash escapes: %q", argv)
	}
}

func TestRunPrintsAndFails(t *testing.T) {
	ctx := context.Background()
	ok := script(t, `echo "  postgres://u:pw-9f3k@db:5432/app  "`)
	out, err := Run(ctx, ok, Options{})
	if err != nil || out != "postgres://u:pw-9f3k@db:5432/app" {
		t.Fatalf("Run = %q, %v", out, err)
	}

	// Exit 1 with stderr: the exit code and the stderr in words, with the
	// arguments and what it printed redacted.
	failing := script(t, `echo "partial-secret-81z"; echo "vault: permission denied reading $1 (token hvs.T0KEN-9x9x)" >&2; echo "echoed: partial-secret-81z" >&2; exit 1`)
	_, err = Run(ctx, failing+" secret/data/prod-db token=hvs.T0KEN-9x9x", Options{})
	var ce *Error
	if !errors.As(err, &ce) || ce.ExitCode != 1 {
		t.Fatalf("exit 1: %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "the credentials command exited 1: vault: permission denied") {
		t.Fatalf("exit 1 says %q", msg)
	}
	for _, secret := range []string{"secret/data/prod-db", "hvs.T0KEN-9x9x", "partial-secret-81z"} {
		if strings.Contains(msg, secret) {
			t.Fatalf("the error shows %q: %s", secret, msg)
		}
	}

	for _, tc := range []struct {
		line, want string
	}{
		{script(t, `exit 0`), "the credentials command printed nothing"},
		{script(t, `kill -TERM $$`), "the credentials command was killed by signal terminated"},
		{"/nonexistent/get-creds --flag", "the credentials command could not start get-creds: no such file"},
		{"pgsafe-no-such-program-x", "the credentials command could not start pgsafe-no-such-program-x: it was not found"},
		{script(t, `head -c 70000 /dev/zero | tr '\0' a`), "the credentials command printed more than 64 KiB"},
	} {
		_, err := Run(ctx, tc.line, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Run(%s) = %v; want %q", tc.line, err, tc.want)
		}
	}
	notExec := script(t, "echo x")
	os.Chmod(notExec, 0o600)
	if _, err := Run(ctx, notExec, Options{}); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("a file that is not executable: %v", err)
	}
}

// A command that hangs is stopped at the time limit with everything it
// started: a child holding its output open does not keep Run waiting.
func TestRunTimeoutKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	hang := script(t, `sleep 300 & echo $! > `+pidFile+`; wait`)
	start := time.Now()
	_, err := Run(context.Background(), hang, Options{Timeout: 500 * time.Millisecond})
	var ce *Error
	if !errors.As(err, &ce) || !ce.TimedOut || !strings.Contains(err.Error(), "did not finish within 1s and was stopped") {
		t.Fatalf("a hanging command: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Run returned after %s", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A cancel stops it the same way.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(pidFile + ".2"); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err = Run(ctx, script(t, `echo $$ > `+pidFile+`.2; sleep 300`), Options{})
	if err == nil || !strings.Contains(err.Error(), "the credentials command was stopped before it finished") {
		t.Fatalf("cancelled: %v", err)
	}
}

// The command sees PgSafe's environment without its secrets.
func TestRunEnvironment(t *testing.T) {
	t.Setenv("PGPASSWORD", "pg-env-secret")
	t.Setenv("PGSAFE_KEY_FILE", "/secret/key")
	t.Setenv("VAULT_ADDR", "https://vault.example:8200")
	out, err := Run(context.Background(), script(t, `env`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "pg-env-secret") || strings.Contains(out, "PGSAFE_") || !strings.Contains(out, "VAULT_ADDR=https://vault.example:8200") {
		t.Fatalf("environment:\n%s", out)
	}
}

func TestConnStringAndPassword(t *testing.T) {
	heroku := "Connection information for default credential.\nConnection info string:\n   \"dbname=d host=h port=5432 user=u password=p sslmode=require\"\nConnection URL:\n   postgres://u:p@h:5432/d\n"
	if s, err := ConnString(heroku); err != nil || s != "postgres://u:p@h:5432/d" {
		t.Fatalf("heroku's output: %q, %v", s, err)
	}
	if s, err := ConnString("host=h dbname=d user=u password=p\n"); err != nil || s != "host=h dbname=d user=u password=p" {
		t.Fatalf("key=value: %q, %v", s, err)
	}
	if _, err := ConnString("line one\nline two"); err == nil || strings.Contains(err.Error(), "line") && strings.Contains(err.Error(), "two") {
		t.Fatalf("two lines, no URL: %v", err)
	}
	if _, err := ConnString("postgres://a@h/d\npostgres://b@h/d"); err == nil {
		t.Fatal("two URLs were accepted")
	}
	if p, err := Password("s3cr3t tok\n"); err != nil || p != "s3cr3t tok" {
		t.Fatalf("Password = %q, %v", p, err)
	}
	if _, err := Password("a\nb"); err == nil || strings.Contains(err.Error(), "a\nb") {
		t.Fatalf("two lines: %v", err)
	}
}

func TestRedact(t *testing.T) {
	in := `could not connect: postgres://app:hunter2-xyz@db:5432/app password=hunter2-xyz token: abc123`
	out := Redact(in)
	if strings.Contains(out, "hunter2") || strings.Contains(out, "abc123") || !strings.Contains(out, "postgres://app:[redacted]@db") {
		t.Fatalf("Redact = %q", out)
	}
}
