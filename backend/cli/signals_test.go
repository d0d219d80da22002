package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/store"
)

// interruptFixture is a settings directory with database shop (big enough
// to interrupt a backup of it mid-way) backed up to a folder and to S3, and
// database small, to the folder only.
type interruptFixture struct {
	pg      *testenv.PG
	folder  string
	tmpdir  string // the children's TMPDIR and XDG_RUNTIME_DIR
	s3      *testenv.S3Server
	secrets []string
}

const interruptPassword = "reader-pw-6161"

func newInterruptFixture(t *testing.T) *interruptFixture {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS note FROM generate_series(1, 2000000) g;
		CREATE ROLE reader LOGIN PASSWORD '`+interruptPassword+`'; GRANT SELECT ON items TO reader;`)
	p.CreateDB(t, "small")
	p.Exec(t, "small", `CREATE TABLE t AS SELECT 1 AS id; GRANT SELECT ON t TO reader;`)
	s3srv := testenv.S3(t)
	s3srv.CreateBucket(t, "backups")
	newMachine(t)
	f := &interruptFixture{pg: p, folder: t.TempDir(), tmpdir: t.TempDir(), s3: s3srv, secrets: []string{interruptPassword, p.Password}}
	run := func(stdin string, args ...string) {
		t.Helper()
		if code, out, errOut := runIn(t, stdin, args...); code != 0 {
			t.Fatalf("pgsafe %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	run("", "key", "init")
	run("", "storage", "add", "local", "--name", "folder", "--path", f.folder)
	run(s3srv.SecretKey+"\n", "storage", "add", "s3", "--name", "s3", "--endpoint", s3srv.Endpoint, "--bucket", "backups",
		"--path-style", "--access-key", s3srv.AccessKey, "--secret-stdin")
	run("", "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", interruptPassword), "--storage", "folder", "--storage", "s3")
	run("", "db", "add", "--name", "small", "--url", roleURL(p, "small", "reader", interruptPassword), "--storage", "folder")
	return f
}

// child is `pgsafe ARGS` in a process of its own (this test binary, as the
// command line).
type child struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
}

func (f *interruptFixture) start(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], args...), output: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), "PGSAFE_TEST_CLI=1", "TMPDIR="+f.tmpdir, "XDG_RUNTIME_DIR="+f.tmpdir)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
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

// temps lists the temporary files in the folder storage.
func (f *interruptFixture) temps(t *testing.T) []string {
	var out []string
	filepath.WalkDir(f.folder, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".pgsafe-tmp-") {
			if fi, err := d.Info(); err == nil && fi.Size() > 0 {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// uploads counts the incomplete multipart uploads in the bucket.
func (f *interruptFixture) uploads(t *testing.T) int {
	out, err := f.s3.NewClient().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: ptr("backups")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func ptr[T any](v T) *T { return &v }

// waitWriting waits until c's backup of shop has written data to both
// storages: a temporary file in the folder and a multipart upload on S3.
func (f *interruptFixture) waitWriting(t *testing.T, c *child) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for len(f.temps(t)) == 0 || f.uploads(t) == 0 {
		select {
		case <-c.exited:
			t.Fatalf("pgsafe exited before its backup was writing to both storages:\n%s", c.output.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backup did not reach both storages within 90s:\n%s", c.output.String())
		}
	}
}

// passfileLeft lists what is in the children's temporary folder that holds
// a password or is named like a passfile.
func (f *interruptFixture) passfilesLeft() []string {
	var out []string
	filepath.WalkDir(f.tmpdir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), "pgsafe-pass-") {
			out = append(out, p)
		}
		if d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				for _, s := range f.secrets {
					if bytes.Contains(b, []byte(s)) {
						out = append(out, p+" (holds a password)")
					}
				}
			}
		}
		return nil
	})
	return out
}

// latest is shop's newest backup (the zero value if none).
func (f *interruptFixture) latest(t *testing.T) backupJSON {
	t.Helper()
	code, out, errOut := runIn(t, "", "backups", "shop", "--json")
	var hist []backupJSON
	if code != 0 || json.Unmarshal([]byte(out), &hist) != nil {
		t.Fatalf("backups shop --json: exit %d\n%s%s", code, out, errOut)
	}
	if len(hist) == 0 {
		return backupJSON{}
	}
	return hist[0]
}

// Ctrl+C, SIGTERM (`timeout`) and kill -9 on `pgsafe backup` mid-way: no
// password on disk at any time, nothing half-written kept in the folder or
// on S3, and the history says what happened.
func TestBackupInterrupted(t *testing.T) {
	f := newInterruptFixture(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		code int
	}{
		{"SIGINT", syscall.SIGINT, 130},
		{"SIGTERM", syscall.SIGTERM, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.start(t, "backup", "shop")
			f.waitWriting(t, c)
			if left := f.passfilesLeft(); len(left) > 0 {
				t.Errorf("while pg_dump runs, the temporary folder holds %v", left)
			}
			if err := c.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-c.exited:
			case <-time.After(60 * time.Second):
				t.Fatalf("pgsafe backup did not stop within 60s of %s:\n%s", tc.name, c.output.String())
			}
			out := c.output.String()
			if code := c.cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(out, "interrupted by "+tc.name) {
				t.Fatalf("exit %d after %s (want %d), said:\n%s", code, tc.name, tc.code, out)
			}
			if left := f.passfilesLeft(); len(left) > 0 {
				t.Errorf("passfiles left: %v", left)
			}
			if left := f.temps(t); len(left) > 0 {
				t.Errorf("temporary files left in the folder: %v", left)
			}
			if n := f.uploads(t); n != 0 {
				t.Errorf("%d incomplete multipart uploads left on S3", n)
			}
			if b := f.latest(t); b.Status != string(store.StatusCancelled) || !strings.Contains(b.Error, "interrupted by "+tc.name) {
				t.Errorf("history after %s: %+v", tc.name, b)
			}
		})
	}

	t.Run("kill -9, then the next start", func(t *testing.T) {
		c := f.start(t, "backup", "shop")
		f.waitWriting(t, c)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-c.exited
		if len(f.temps(t)) == 0 || f.uploads(t) == 0 {
			t.Fatal("the killed backup left nothing to sweep: the test checks nothing")
		}
		b := f.latest(t) // opens the settings: the next start
		if b.Status != string(store.StatusFailed) || b.Error != store.InterruptedError {
			t.Errorf("history after kill -9 and the next start: %+v", b)
		}
		if left := f.temps(t); len(left) > 0 {
			t.Errorf("temporary files left in the folder after the next start: %v", left)
		}
		if n := f.uploads(t); n != 0 {
			t.Errorf("%d incomplete multipart uploads left on S3 after the next start", n)
		}
		if left := f.passfilesLeft(); len(left) > 0 {
			t.Errorf("passfiles left: %v", left)
		}
	})

	// Two processes may not back up one database at once; another database
	// backs up meanwhile.
	t.Run("one backup of a database across processes", func(t *testing.T) {
		// A session holding the table makes the backup wait (it counts
		// the table's rows first) as long as the checks take.
		ctx := context.Background()
		tx, err := f.pg.Conn(t, "shop").Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "LOCK TABLE items IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		c := f.start(t, "backup", "shop")
		for deadline := time.Now().Add(60 * time.Second); f.latest(t).Status != string(store.StatusRunning); {
			select {
			case <-c.exited:
				t.Fatalf("pgsafe backup exited before its backup started:\n%s", c.output.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("the backup did not start within 60s:\n%s", c.output.String())
			}
		}
		code, out, errOut := runIn(t, "", "backup", "shop")
		want := "pgsafe: a backup of shop is already running in another PgSafe process (pid " + strconv.Itoa(c.cmd.Process.Pid) + ")\n"
		if code != 1 || errOut != want {
			t.Errorf("a second backup of shop: exit %d\n%s%s\nwant: %s", code, out, errOut, want)
		}
		if code, out, errOut := runIn(t, "", "backup", "small"); code != 0 {
			t.Errorf("a backup of small meanwhile: exit %d\n%s%s", code, out, errOut)
		}
		select {
		case <-c.exited:
			_, hist, _ := runIn(t, "", "backups", "shop", "--json")
			t.Fatalf("the first backup ended during the checks (%v): %q\nhistory: %s", c.cmd.ProcessState, c.output.String(), hist)
		default:
		}
		tx.Rollback(ctx)
		c.cmd.Process.Signal(syscall.SIGTERM)
		<-c.exited
		if code := c.cmd.ProcessState.ExitCode(); code != 143 {
			t.Errorf("exit %d after SIGTERM:\n%s", code, c.output.String())
		}
	})
}
