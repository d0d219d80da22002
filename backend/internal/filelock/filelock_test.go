package filelock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A lock held by one open file is refused to another, and to another
// process; closing the holder releases it.
func TestLockAndTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	open := func() *os.File {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if err := Lock(a); err != nil {
		t.Fatal(err)
	}
	if err := TryLock(b); !errors.Is(err, ErrHeld) {
		t.Fatalf("TryLock of a held lock = %v, want ErrHeld", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FILELOCK_CHILD="+p)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("another process: %v\n%s", err, out)
	}
	a.Close()
	if err := TryLock(b); err != nil {
		t.Fatalf("TryLock after the holder closed = %v", err)
	}
}

// TestMain makes this test binary the other process of TestLockAndTryLock
// when started with FILELOCK_CHILD: it exits 0 when it finds the lock held.
func TestMain(m *testing.M) {
	if p := os.Getenv("FILELOCK_CHILD"); p != "" {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err == nil {
			err = TryLock(f)
			f.Close()
		}
		if !errors.Is(err, ErrHeld) {
			fmt.Fprintf(os.Stderr, "TryLock in another process = %v, want ErrHeld\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
