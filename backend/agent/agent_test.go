package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/agent"
	"github.com/pgsafe/pgsafe/backend/cli"
)

// The test binary is also `pgsafe` (PGSAFE_TEST_AS_PGSAFE=1), so that Ensure
// starts a real agent process, and a plain dialer (PGSAFE_TEST_DIAL=socket)
// run as another user.
func TestMain(m *testing.M) {
	if os.Getenv("PGSAFE_TEST_AS_PGSAFE") == "1" {
		if len(os.Args) > 1 && os.Args[1] == "app" {
			os.Exit(openWindow()) // the tray's "Open PgSafe"
		}
		os.Exit(cli.Run(&cli.Env{Ctx: context.Background(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
	}
	if path := os.Getenv("PGSAFE_TEST_DIAL"); path != "" {
		os.Exit(dialAsIs(path))
	}
	if path := os.Getenv("PGSAFE_TEST_LISTEN"); path != "" {
		os.Exit(listenAsIs(path))
	}
	os.Exit(m.Run())
}

// openWindow stands in for the window: it says it was opened on the FIFO
// the test reads.
func openWindow() int {
	f, err := os.OpenFile(os.Getenv("PGSAFE_TEST_WINDOW_FIFO"), os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "window stand-in:", err)
		return 1
	}
	defer f.Close()
	fmt.Fprintln(f, "window opened")
	return 0
}

// echo is a served service.
type EchoService struct{ mu sync.Mutex }

type Pair struct {
	A string `json:"a"`
	B int    `json:"b"`
}

func (s *EchoService) Swap(p Pair) (Pair, error) { return Pair{A: fmt.Sprint(p.B), B: len(p.A)}, nil }
func (s *EchoService) Fail(msg string) error     { return errors.New(msg) }
func (s *EchoService) Nothing()                  {}
func (s *EchoService) Panic() string             { panic("boom") }

// serve runs a Server for EchoService on a real endpoint in a fresh
// settings directory and returns it with a client.
func serve(t *testing.T, opts agent.ServerOptions) (*agent.Server, *agent.Client, string) {
	t.Helper()
	home := shortTemp(t)
	opts.Services = map[string]any{"EchoService": &EchoService{}}
	s, err := agent.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := agent.Listen(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	c := agent.NewClient(home)
	t.Cleanup(c.Close)
	return s, c, home
}

// shortTemp is a 0700 directory whose socket path fits sockaddr_un.
func shortTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsafe-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestCallsAndErrors(t *testing.T) {
	var mu sync.Mutex
	var logged strings.Builder
	_, c, _ := serve(t, agent.ServerOptions{Hello: agent.Hello{Version: "v-test"}, Log: slogTo(&mu, &logged)})
	ctx := context.Background()

	h, err := c.Hello(ctx)
	if err != nil || h.API != agent.APIVersion || h.Version != "v-test" {
		t.Fatalf("Hello = %+v, %v", h, err)
	}
	var p Pair
	if err := c.Call(ctx, "EchoService.Swap", &p, Pair{A: "abc", B: 42}); err != nil || p != (Pair{A: "42", B: 3}) {
		t.Fatalf("Swap = %+v, %v", p, err)
	}
	// A method's own error comes back as its message, for the user.
	err = c.Call(ctx, "EchoService.Fail", nil, "the server refused the password")
	var re *agent.RemoteError
	if !errors.As(err, &re) || re.Message != "the server refused the password" {
		t.Fatalf("Fail = %v", err)
	}
	if out, err := c.CallRaw(ctx, "EchoService.Nothing", nil); err != nil || string(out) != "null" {
		t.Fatalf("Nothing = %s, %v", out, err)
	}
	// A panic in a method is an error, and the agent lives on.
	if err := c.Call(ctx, "EchoService.Panic", nil); !errors.As(err, &re) || !strings.Contains(re.Message, "boom") {
		t.Fatalf("Panic = %v", err)
	}
	// …and its log says where, with the stack.
	mu.Lock()
	l := logged.String()
	mu.Unlock()
	if !strings.Contains(l, "a served method panicked") || !strings.Contains(l, "EchoService") || !strings.Contains(l, "agent_test.go") {
		t.Errorf("the agent's log has no stack of the panic:\n%s", l)
	}
	// Protocol errors are not a method's errors.
	for method, want := range map[string]string{"EchoService.Nope": "404", "Nope.Swap": "404"} {
		if err := c.Call(ctx, method, nil); err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a %s", method, err, want)
		}
	}
	if err := c.Call(ctx, "EchoService.Swap", nil, "not a pair"); err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "400") {
		t.Errorf("Swap with a string: %v, want a 400", err)
	}
	if err := c.Call(ctx, "EchoService.Swap", nil); err == nil || !strings.Contains(err.Error(), "takes 1 arguments, got 0") {
		t.Errorf("Swap without arguments: %v", err)
	}
	if h, err := c.Hello(ctx); err != nil || h.API != agent.APIVersion {
		t.Fatalf("the agent no longer answers after the errors: %v", err)
	}
}

func TestEventsInOrderAndWindows(t *testing.T) {
	windows := make(chan int, 10)
	var s *agent.Server
	s, c, _ := serve(t, agent.ServerOptions{OnWindows: func() { windows <- s.Windows() }})
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan agent.Event, 10)
	done := make(chan error, 1)
	go func() { done <- c.Events(ctx, true, func(ev agent.Event) { got <- ev }) }()
	if n := <-windows; n != 1 {
		t.Fatalf("windows after a window subscribed: %d", n)
	}
	for i := range 3 {
		s.Publish("engine:event", map[string]int{"n": i})
	}
	for i := range 3 {
		ev := <-got
		var d map[string]int
		if ev.Name != "engine:event" || json.Unmarshal(ev.Data, &d) != nil || d["n"] != i {
			t.Fatalf("event %d: %s %s", i, ev.Name, ev.Data)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Events after the face left: %v", err)
	}
	if n := <-windows; n != 0 {
		t.Fatalf("windows after the window left: %d", n)
	}
}

// Shutdown tells the faces and ends their streams with an error they can
// tell from their own leaving.
func TestShutdownEndsStreams(t *testing.T) {
	subscribed := make(chan struct{}, 1)
	s, c, _ := serve(t, agent.ServerOptions{OnWindows: func() { subscribed <- struct{}{} }})
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- c.Events(context.Background(), true, func(ev agent.Event) { got = append(got, ev.Name) })
	}()
	<-subscribed
	s.Shutdown(context.Background())
	err := <-done
	if err == nil {
		t.Fatal("Events returned nil although the face did not leave")
	}
	if len(got) != 1 || got[0] != "agent:stopping" {
		t.Errorf("events before the stream ended: %q, want [agent:stopping]", got)
	}
}
