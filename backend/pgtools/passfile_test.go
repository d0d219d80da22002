package pgtools

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// filesHolding lists the files under dir whose content holds secret, as is
// or escaped as in a passfile.
func filesHolding(t *testing.T, dir, secret string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && (bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(escapePassfile(secret)))) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// While pg_dump runs with a password, no file holds it: not in the temporary
// folder (where the passfile used to be), not in pg_dump's environment.
func TestPasswordNeverOnDisk(t *testing.T) {
	f := newDumpFixture(t)
	f.pg.Exec(t, "shop", `
		CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 20000) g;
		GRANT SELECT ON big, secrets TO reader;`)
	rc, err := Dump(context.Background(), f.client.PgDump, f.reader, DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// pg_dump has connected (it writes the archive's header after reading
	// the catalog) and now waits on the full pipe: it is mid-run.
	head := make([]byte, 5)
	if _, err := io.ReadFull(rc, head); err != nil || string(head) != "PGDMP" {
		t.Fatalf("archive header %q, %v", head, err)
	}
	if found := filesHolding(t, os.TempDir(), readerPassword); len(found) > 0 {
		t.Fatalf("files hold the password while pg_dump runs: %v", found)
	}
	pid := rc.(*toolRun).cmd.Process.Pid
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err == nil && bytes.Contains(env, []byte(readerPassword)) {
		t.Fatal("pg_dump's environment holds the password")
	}
	rest, err := io.ReadAll(rc)
	if err != nil || len(rest) < 20000*32 {
		t.Fatalf("dump after the scan: %d bytes, %v", len(rest), err)
	}
}

// A passfile directory whose process ended is swept; a live process's and a
// recent one of an older PgSafe are kept.
func TestRemoveStalePassfiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, age time.Duration) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "pgpass"), []byte("*:*:*:*:x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if age > 0 {
			old := time.Now().Add(-age)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	deadDir := mk("pgsafe-pass-"+strconv.Itoa(dead.Process.Pid)+"-1", 0)
	ownDir := mk("pgsafe-pass-"+strconv.Itoa(os.Getpid())+"-2", time.Hour)
	parentDir := mk("pgsafe-pass-"+strconv.Itoa(os.Getppid())+"-3", time.Hour)
	oldLegacy := mk("pgsafe-pass-123456", time.Hour)
	newLegacy := mk("pgsafe-pass-654321", 0)
	other := mk("pgsafe-pass-x-4", time.Hour)

	removed := RemoveStalePassfiles()
	want := []string{deadDir, oldLegacy}
	slices.Sort(removed)
	slices.Sort(want)
	if strings.Join(removed, ",") != strings.Join(want, ",") {
		t.Fatalf("removed %q, want %q", removed, want)
	}
	for _, p := range want {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	for _, p := range []string{ownDir, parentDir, newLegacy, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}
