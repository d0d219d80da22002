package agent_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// dialAsIs asks the agent at path who it is: exit 0 and its answer if it
// answered, 3 if the connection was refused or cut.
func dialAsIs(path string) int {
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Println("dial:", err)
		return 3
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		fmt.Println("read:", err)
		return 3
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(b))
	return 0
}

func TestEndpointIsPrivate(t *testing.T) {
	_, c, home := serve(t, agent.ServerOptions{})
	if _, err := c.Hello(context.Background()); err != nil {
		t.Fatal(err)
	}
	sock := agent.SocketPath(home)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, %v; want a socket, mode 0600", sock, fi.Mode(), err)
	}
	di, err := os.Stat(filepath.Dir(sock))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("the socket's directory: %v, %v; want 0700", di.Mode(), err)
	}
	// No TCP listener in this process: the API is not reachable over TCP.
	if l := processTCPListeners(t, os.Getpid()); len(l) > 0 {
		t.Fatalf("this process listens on TCP: %v", l)
	}
}

// Another user cannot reach the agent: the socket's directory keeps them
// out, and if it did not, the agent drops their connection (SO_PEERCRED).
func TestAnotherUserIsRefused(t *testing.T) {
	uid, gid := testenv.OtherUser(t)
	var logs strings.Builder
	var mu sync.Mutex
	log := slogTo(&mu, &logs)
	home := shortTemp(t)
	s, err := agent.NewServer(agent.ServerOptions{Services: map[string]any{"EchoService": &EchoService{}}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := agent.Listen(home, log)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())

	// The test binary, where the other user can run it.
	bin := otherUserCopy(t)
	dialAs := func() (int, string) {
		cmd := exec.Command(bin)
		cmd.Env = []string{"PGSAFE_TEST_DIAL=" + agent.SocketPath(home)}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	// 1. As set up: the directory is 0700, the socket 0600.
	if code, out := dialAs(); code != 3 || !strings.Contains(out, "permission denied") {
		t.Fatalf("uid %d reached the agent (exit %d): %s", uid, code, out)
	}
	// 2. Even with both opened to everyone, the agent drops the connection.
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(agent.SocketPath(home), 0o666); err != nil {
		t.Fatal(err)
	}
	if code, out := dialAs(); code != 3 || strings.Contains(out, "200 OK") {
		t.Fatalf("uid %d got an answer from the agent (exit %d): %s", uid, code, out)
	}
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	if !strings.Contains(got, "refused a connection from another user") || !strings.Contains(got, fmt.Sprintf("uid=%d", uid)) {
		t.Errorf("the agent's log does not say it refused uid %d:\n%s", uid, got)
	}
	// This user still gets in.
	if _, err := agent.NewClient(home).Hello(context.Background()); err != nil {
		t.Fatalf("the owner is refused too: %v", err)
	}
}

// otherUserCopy copies the test binary into a directory every user may
// enter (the test binary's own directory is private to this user).
func otherUserCopy(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsafe-agent-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(d, "agent.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// A face does not talk to a socket another user put in the agent's place
// (it would send them the passwords typed into its forms).
func TestFaceRefusesAnotherUsersSocket(t *testing.T) {
	uid, gid := testenv.OtherUser(t)
	home := shortTemp(t)
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	squatter := exec.Command(otherUserCopy(t))
	squatter.Env = []string{"PGSAFE_TEST_LISTEN=" + agent.SocketPath(home)}
	squatter.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	out, err := squatter.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := squatter.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { squatter.Process.Kill(); squatter.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "listening\n" {
		t.Fatalf("the other user's listener said %q", line)
	}
	_, err = agent.NewClient(home).Hello(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("runs as another user (uid %d)", uid)) {
		t.Fatalf("Hello to another user's socket: %v", err)
	}
}

// listenAsIs listens on path and answers every connection with a hello, as
// an impostor would (run as another user).
func listenAsIs(path string) int {
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println("listen:", err)
		return 3
	}
	os.Chmod(path, 0o777)
	fmt.Println("listening")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"api":%d,"pid":1}`, agent.APIVersion)
	}))
	return 0
}
