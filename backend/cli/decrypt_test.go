//go:build unix

package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// A decrypt stopped mid-way (its context cancelled, or SIGINT) removes its
// partial output; on Linux the partial output never has a name, so not even
// kill -9 could leave plaintext behind.
func TestDecryptInterrupted(t *testing.T) {
	t.Setenv("PGSAFE_HOME", t.TempDir())
	t.Setenv(keys.EnvKeyFile, "")
	dir := t.TempDir()
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master.key")
	if err := keys.WriteKeyFile(keyFile, mk); err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 6<<20) // incompressible: six chunks
	rand.Read(plain)
	backupFile := filepath.Join(dir, "b.pgsafe")
	writeBackup(t, backupFile, mk, plain)
	data, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}

	for _, how := range []string{"cancel", "SIGINT"} {
		t.Run(how, func(t *testing.T) {
			outDir := t.TempDir()
			fifo := filepath.Join(t.TempDir(), "in.pgsafe")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fed := make(chan []os.DirEntry, 1)
			done := make(chan struct{})
			go func() {
				// Opening the FIFO waits for decrypt to open it; writing half
				// the file waits for decrypt to have read all but a pipe
				// buffer of it, so decrypt is writing its output by then.
				// The rest is never written: decrypt waits for it until it
				// is stopped.
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					fed <- nil
					return
				}
				defer w.Close()
				w.Write(data[:len(data)/2])
				during, _ := os.ReadDir(outDir)
				fed <- during
				if how == "cancel" {
					cancel()
				} else {
					syscall.Kill(os.Getpid(), syscall.SIGINT)
				}
				select {
				case <-done:
				case <-time.After(time.Minute): // a decrypt that ignores the stop: end it by EOF
				}
			}()
			var stdout, stderr bytes.Buffer
			out := filepath.Join(outDir, "b.dump")
			code := Run(&Env{Ctx: ctx, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr},
				[]string{"decrypt", "--in", fifo, "--out", out, "--key-file", keyFile})
			close(done)
			during := <-fed
			if code == 0 || !strings.Contains(stderr.String(), "stopped") || !strings.Contains(stderr.String(), "no output was written") {
				t.Fatalf("decrypt stopped mid-way: exit %d, %s", code, stderr.String())
			}
			if how == "SIGINT" && code != 130 {
				t.Errorf("decrypt stopped by SIGINT: exit %d, want 130", code)
			}
			if left, _ := os.ReadDir(outDir); len(left) != 0 {
				t.Fatalf("a stopped decrypt left %v", names(left))
			}
			if runtime.GOOS == "linux" && len(during) != 0 {
				t.Fatalf("while decrypting, %s held %v: a kill -9 would leave plaintext there", outDir, names(during))
			}
		})
	}

	// Finished, the output is named; over an existing file only with --force.
	out := filepath.Join(t.TempDir(), "b.dump")
	for _, args := range [][]string{{}, {"--force"}} {
		code, _, errOut := runIn(t, "", append([]string{"decrypt", "--in", backupFile, "--out", out, "--key-file", keyFile}, args...)...)
		if got, _ := os.ReadFile(out); code != 0 || !bytes.Equal(got, plain) {
			t.Fatalf("decrypt %v: exit %d %s", args, code, errOut)
		}
		if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
			t.Fatalf("decrypted archive has mode %v", fi.Mode())
		}
	}
	code, _, errOut := runIn(t, "", "decrypt", "--in", backupFile, "--out", out, "--key-file", keyFile)
	if code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("decrypt over an existing file without --force: exit %d %s", code, errOut)
	}
	if left, _ := os.ReadDir(filepath.Dir(out)); len(left) != 1 {
		t.Fatalf("left beside the output: %v", names(left))
	}
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
