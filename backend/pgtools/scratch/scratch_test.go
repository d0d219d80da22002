//go:build !windows

package scratch_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools/scratch"
)

// owner is the account the server runs as when the tests run as root.
func owner(t *testing.T) *scratch.Owner {
	name, uid, gid, ok := testenv.ServerAccount(t)
	if !ok {
		return nil
	}
	return &scratch.Owner{Name: name, Uid: uid, Gid: gid}
}

// parent is a world-traversable folder for the clusters of one test (the
// server's user must reach its own folder inside).
func parent(t *testing.T) string {
	dir, err := os.MkdirTemp("", "scr-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestStartQueryClose(t *testing.T) {
	for _, major := range []int{15, 13, 17} {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			ctx := context.Background()
			bin := testenv.ServerBinDir(t, major)
			c, err := scratch.Start(ctx, scratch.Options{BinDir: bin, Owner: owner(t), Parent: parent(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Version.Major != major {
				t.Fatalf("version %s, want major %d", c.Version, major)
			}
			fi, err := os.Stat(c.Dir)
			if err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("cluster folder %s: %v %v, want 0700", c.Dir, fi.Mode(), err)
			}
			cfg, err := c.Conn("postgres").PgxConfig()
			if err != nil {
				t.Fatal(err)
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var listen, auth string
			conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen)
			conn.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = current_user").Scan(&auth)
			conn.Close(ctx)
			if listen != "" {
				t.Fatalf("listen_addresses %q: the server must listen on its socket only", listen)
			}
			if !strings.HasPrefix(auth, "SCRAM-SHA-256$") {
				t.Fatalf("superuser password %q is not a scram-sha-256 verifier", auth)
			}
			// The password is required.
			cfg.Password = "wrong"
			if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
				conn.Close(ctx)
				t.Fatal("a wrong password connected")
			}
			// No file of the cluster holds the password in plain text.
			pw := c.Conn("").Password
			filepath.Walk(c.Dir, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					if b, _ := os.ReadFile(p); strings.Contains(string(b), pw) {
						t.Errorf("%s holds the password", p)
					}
				}
				return nil
			})
			pid := c.Pid()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
				t.Fatalf("cluster folder left after Close: %v", err)
			}
			if unix.Kill(pid, 0) == nil {
				t.Fatalf("postgres %d still runs after Close", pid)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// As root without an owner the server cannot start, and the error says why;
// as another user only root may name an owner.
func TestRootNeedsAnOwner(t *testing.T) {
	bin := testenv.ServerBinDir(t, 15)
	p := parent(t)
	if os.Geteuid() == 0 {
		_, err := scratch.Start(context.Background(), scratch.Options{BinDir: bin, Parent: p})
		if !errors.Is(err, scratch.ErrRoot) {
			t.Fatalf("as root: %v, want ErrRoot", err)
		}
	} else {
		_, err := scratch.Start(context.Background(), scratch.Options{BinDir: bin, Parent: p, Owner: &scratch.Owner{Name: "x", Uid: 1, Gid: 1}})
		if err == nil || !strings.Contains(err.Error(), "only root") {
			t.Fatalf("owner as non-root: %v", err)
		}
	}
	if left, _ := os.ReadDir(p); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// As root, a temporary folder the server's user cannot enter is refused in
// words before anything is made.
func TestOwnerMustReachTheFolder(t *testing.T) {
	o := owner(t)
	if o == nil {
		t.Log("not root: the servers run as this user, who owns the folder") // the check is root-only
		if _, err := os.Stat(os.TempDir()); err != nil {
			t.Fatal(err)
		}
		return
	}
	private := t.TempDir()
	os.Chmod(private, 0o700)
	_, err := scratch.Start(context.Background(), scratch.Options{BinDir: testenv.ServerBinDir(t, 15), Owner: o, Parent: private})
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private) {
		t.Fatalf("private parent: %v", err)
	}
	if left, _ := os.ReadDir(private); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// A missing binary is a clear error and leaves nothing.
func TestNoBinaries(t *testing.T) {
	p := parent(t)
	_, err := scratch.Start(context.Background(), scratch.Options{BinDir: p, Owner: owner(t), Parent: p})
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL server in "+p) {
		t.Fatalf("no binaries: %v", err)
	}
	if left, _ := os.ReadDir(p); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// A PgSafe killed mid-drill leaves its cluster; the next start's Sweep stops
// the server if it still runs and removes the folder, and leaves a live
// process's cluster alone.
func TestSweepAfterKill(t *testing.T) {
	p := parent(t)
	live, err := scratch.Start(context.Background(), scratch.Options{BinDir: testenv.ServerBinDir(t, 15), Owner: owner(t), Parent: p})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldCluster$")
	cmd.Env = append(os.Environ(), "SCRATCH_HELPER_PARENT="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	var dir string
	var pid int
	fmt.Sscanf(line, "ready %s %d", &dir, &pid)
	cmd.Process.Kill() // as a crash would: no Close
	cmd.Wait()

	removed := scratch.Sweep(p)
	if len(removed) != 1 || removed[0] != dir {
		t.Fatalf("swept %v, want [%s]", removed, dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for unix.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned postgres %d still runs", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(live.Dir); err != nil {
		t.Fatalf("the live cluster's folder was swept: %v", err)
	}
}

// TestHelperHoldCluster is TestSweepAfterKill's child: it starts a cluster,
// says where, and waits to be killed.
func TestHelperHoldCluster(t *testing.T) {
	p := os.Getenv("SCRATCH_HELPER_PARENT")
	if p == "" {
		return // only as TestSweepAfterKill's child
	}
	c, err := scratch.Start(context.Background(), scratch.Options{BinDir: testenv.ServerBinDir(t, 15), Owner: owner(t), Parent: p})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %s %d\n", c.Dir, c.Pid())
	select {}
}
