package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// Started with PGSAFE_TEST_CLI=1, this test binary is the pgsafe command
// line itself: a real process to run headless and send SIGTERM to.
func init() {
	if os.Getenv("PGSAFE_TEST_CLI") == "1" {
		os.Exit(Run(&Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestScheduleSetValidation(t *testing.T) {
	cases := map[string][]string{
		"exactly one of":           {"shop"},
		"at least 1 min":           {"shop", "--every", "2s"},
		"not an interval":          {"shop", "--every", "soon"},
		"not a time of day":        {"shop", "--daily", "25:00"},
		"DAYS@HH:MM":               {"shop", "--weekly", "mon,fri"},
		"\"fun\" is not a weekday": {"shop", "--weekly", "mon,fun@02:00"},
		"not a day of the month":   {"shop", "--monthly", "32@02:00"},
		"not a known time zone":    {"shop", "--daily", "02:00", "--tz", "Mars/Olympus"},
		"cannot be read":           {"shop", "--cron", "0 25 * * *"},
		"never runs":               {"shop", "--cron", "0 0 30 2 *"},
	}
	for want, args := range cases {
		code, out, errOut := run(t, append([]string{"schedule", "set"}, args...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("schedule set %v: exit %d, stderr %q, want one line saying %q", args, code, errOut, want)
		}
	}
}

// The whole path, headless: a real PostgreSQL, a folder storage, a schedule
// every two seconds, `pgsafe run` as its own process; a scheduled backup
// appears in the history; SIGTERM during the next one lets it finish and
// stops cleanly (exit 0), and the schedule's last and next run are kept.
func TestRunHeadlessSchedules(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(1, 400000) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-4242'; GRANT SELECT ON items TO reader;`)
	newMachine(t)
	folder := t.TempDir()
	cli := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	cli(0, "key", "init")
	cli(0, "storage", "add", "local", "--name", "nas", "--path", folder)
	cli(0, "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-4242"), "--storage", "nas")

	if out := cli(1, "schedule", "show", "shop"); !strings.Contains(out, "has no schedule") {
		t.Fatalf("show before set: %s", out)
	}
	if out := cli(0, "schedule", "set", "shop", "--weekly", "mon,wed,fri@02:30", "--tz", "America/New_York"); !strings.Contains(out, "weekly on Mon, Wed, Fri at 02:30 (America/New_York); next run") {
		t.Fatalf("set weekly: %s", out)
	}
	if out := cli(0, "schedule", "show", "shop"); !strings.Contains(out, "mon,wed,fri@02:30") || !strings.Contains(out, "last run:   never") {
		t.Fatalf("show weekly:\n%s", out)
	}
	cli(0, "schedule", "set", "shop", "--cron", "*/2 * * * * *")
	show := func() scheduleJSON {
		t.Helper()
		code, out, errOut := runIn(t, "", "schedule", "show", "shop", "--json")
		if code != 0 || errOut != "" {
			t.Fatalf("schedule show --json: exit %d, stderr %q, stdout %q", code, errOut, out)
		}
		var s scheduleJSON
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("schedule show --json: %v in %q", err, out)
		}
		return s
	}
	if s := show(); s.Kind != "cron" || s.Spec != "*/2 * * * * *" || s.NextRunAt == nil || s.LastRunAt != nil || s.LastBackup != nil {
		t.Fatalf("show --json before running: %+v", s)
	}

	start := time.Now()
	var stderr lockedBuffer
	cmd := exec.Command(os.Args[0], "run", "--grace", "30s")
	cmd.Env = append(os.Environ(), "PGSAFE_TEST_CLI=1")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	// Wait for a scheduled backup that succeeded.
	var done *lastBackupJSON
	for done == nil {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("no scheduled backup within 20s; pgsafe run said:\n%s", stderr.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("pgsafe run exited early (%v):\n%s", err, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
		if s := show(); s.LastBackup != nil && s.LastBackup.Status == "succeeded" {
			done = s.LastBackup
		}
	}
	// It is in the history, as a scheduled backup.
	var hist []backupJSON
	if err := json.Unmarshal([]byte(cli(0, "backups", "shop", "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range hist {
		found = found || (b.ID == done.ID && b.Status == "succeeded" && b.Origin == store.OriginScheduled && len(b.Storages) == 1)
	}
	if !found {
		t.Fatalf("backup %s is not in `backups shop --json`: %+v", done.ID, hist)
	}

	// One scheduler per settings directory: a second one refuses at once,
	// with one line naming the first, and nothing else (no "running", no
	// error of what it started before refusing).
	if out := cli(1, "run"); !strings.HasPrefix(out, "pgsafe: another PgSafe (pid "+strconv.Itoa(cmd.Process.Pid)+")") ||
		!strings.Contains(out, "already running the schedules") || strings.Count(out, "\n") != 1 {
		t.Fatalf("a second `pgsafe run` said:\n%s", out)
	}

	// SIGTERM while the next scheduled backup is being written: it finishes
	// within the grace period.
	var inFlight string
	for inFlight == "" {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("no second scheduled backup started; pgsafe run said:\n%s", stderr.String())
		}
		if err := json.Unmarshal([]byte(cli(0, "backups", "shop", "--json")), &hist); err != nil {
			t.Fatal(err)
		}
		for _, b := range hist {
			if b.Status == "running" {
				inFlight = b.ID
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("pgsafe run after SIGTERM: %v (want exit 0)\n%s", err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("pgsafe run did not stop after SIGTERM:\n%s", stderr.String())
	}
	logs := stderr.String()
	t.Logf("pgsafe run's log:\n%s", logs)
	for _, want := range []string{"PgSafe scheduler running", "scheduled backup of shop started", "scheduled backup of shop finished", "stopping", "stopped cleanly"} {
		if !strings.Contains(logs, want) {
			t.Errorf("pgsafe run's log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "reader-pw-4242") || strings.Contains(logs, p.Password) {
		t.Fatal("pgsafe run logged a password")
	}

	// Nothing left running; the bookkeeping is kept.
	if err := json.Unmarshal([]byte(cli(0, "backups", "shop", "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	for _, b := range hist {
		if b.Status != "succeeded" {
			t.Fatalf("after the stop, backup %s is %s: %s", b.ID, b.Status, b.Error)
		}
	}
	if hist[0].ID != inFlight {
		t.Fatalf("the newest backup is %s, not the one in flight at SIGTERM (%s): %+v", hist[0].ID, inFlight, hist)
	}
	s := show()
	if s.LastRunAt == nil || s.NextRunAt == nil || s.LastRunAt.Before(start) || !s.NextRunAt.After(*s.LastRunAt) {
		t.Fatalf("after the stop: last %v next %v", s.LastRunAt, s.NextRunAt)
	}
	if out := cli(0, "schedule", "show", "shop"); !strings.Contains(out, "last scheduled backup") || !strings.Contains(out, "succeeded") {
		t.Fatalf("show after runs:\n%s", out)
	}

	// Pause, resume and clear.
	if out := cli(0, "schedule", "pause", "--for", "1h"); !strings.Contains(out, "paused until") {
		t.Fatalf("pause: %s", out)
	}
	if s := show(); !s.Paused || s.PausedUntil == nil {
		t.Fatalf("paused: %+v", s)
	}
	cli(0, "schedule", "resume")
	if s := show(); s.Paused {
		t.Fatal("still paused")
	}
	cli(0, "schedule", "clear", "shop")
	if out := cli(1, "schedule", "show", "shop"); !strings.Contains(out, "has no schedule") {
		t.Fatalf("show after clear: %s", out)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the headless run took %s", d)
	}
}
