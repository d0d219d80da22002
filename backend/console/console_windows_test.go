package console

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// These tests run as Windows programs (scripts/test-windows.sh, under Wine
// in a terminal, so that the test process has a console). The child they
// start is this test binary, started the way Windows starts a GUI-subsystem
// program from cmd: detached from the console, with null standard handles
// unless the test redirects one.

const childEnv = "PGSAFE_CONSOLE_TEST_CHILD"

func TestMain(m *testing.M) {
	if marker := os.Getenv(childEnv); marker != "" {
		os.Exit(child(marker))
	}
	os.Exit(m.Run())
}

// child attaches like pgsafe.exe does and writes marker to its stdout and
// "err:"+marker to its stderr.
func child(marker string) int {
	got, err := AttachParent(Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return 3
	}
	if _, err := fmt.Fprintln(got.Out, marker); err != nil {
		return 4
	}
	if _, err := fmt.Fprintln(got.Err, "err:"+marker); err != nil {
		return 5
	}
	return 0
}

func TestUsable(t *testing.T) {
	f := tempFile(t)
	null, err := os.OpenFile("NUL", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, c := range []struct {
		name string
		f    *os.File
		want bool
	}{
		{"a file", f, true},
		{"NUL", null, true},
		{"the null handle", os.NewFile(0, "null handle"), false},
		{"no file", nil, false},
	} {
		if got := usable(c.f); got != c.want {
			t.Errorf("usable(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestACommandPrintsInTheConsoleItWasStartedFrom(t *testing.T) {
	screen := parentConsole(t)
	marker := "pgsafe version 1.2.3 é " + t.Name()
	if code := runChild(t, marker, 0); code != 0 {
		t.Fatalf("child exited %d", code)
	}
	text := screen()
	if !strings.Contains(text, marker) || !strings.Contains(text, "err:"+marker) {
		t.Fatalf("the console does not show the child's stdout and stderr (%q); it shows:\n%s", marker, text)
	}
}

func TestRedirectedOutputStaysRedirected(t *testing.T) {
	// `pgsafe.exe version > out.txt`: stdout is the file, stderr the console.
	screen := parentConsole(t)
	out := tempFile(t)
	marker := "redirected " + t.Name()
	if code := runChild(t, marker, windows.Handle(out.Fd())); code != 0 {
		t.Fatalf("child exited %d", code)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != marker+"\n" {
		t.Fatalf("out.txt holds %q, want %q", b, marker+"\n")
	}
	text := screen()
	if !strings.Contains(text, "err:"+marker) {
		t.Fatalf("stderr did not reach the console; it shows:\n%s", text)
	}
	if strings.Contains(strings.ReplaceAll(text, "err:"+marker, ""), marker) {
		t.Fatalf("the redirected stdout reached the console too:\n%s", text)
	}
}

// parentConsole checks this process has a console and returns a function
// reading its screen buffer's text.
func parentConsole(t *testing.T) func() string {
	t.Helper()
	conout, err := openConsole("CONOUT$", true)
	if err != nil {
		t.Fatalf("this test needs a console: run it in a terminal (scripts/test-windows.sh runs Wine under script(1)): %v", err)
	}
	t.Cleanup(func() { conout.Close() })
	h := windows.Handle(conout.Fd())
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(h, &info); err != nil {
		t.Fatalf("this test needs a console: run it in a terminal (scripts/test-windows.sh runs Wine under script(1)): %v", err)
	}
	read := windows.NewLazySystemDLL("kernel32.dll").NewProc("ReadConsoleOutputCharacterW")
	return func() string {
		var info windows.ConsoleScreenBufferInfo
		if err := windows.GetConsoleScreenBufferInfo(h, &info); err != nil {
			t.Fatal(err)
		}
		width := int(info.Size.X)
		buf := make([]uint16, width*int(info.Size.Y))
		var n uint32
		if r, _, err := read.Call(uintptr(h), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, uintptr(unsafe.Pointer(&n))); r == 0 {
			t.Fatalf("read the console: %v", err)
		}
		// Rows without their padding, joined: a line longer than the
		// console wraps onto the next row.
		var b strings.Builder
		for i := 0; i+width <= int(n); i += width {
			row := strings.TrimRight(windows.UTF16ToString(buf[i:i+width]), " ")
			b.WriteString(row)
			if len(row) < width {
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
}

// runChild starts this binary as a detached child (no console, as a GUI
// program has) whose stdout is stdout (0: the null handle, as cmd gives a
// GUI program) and stdin and stderr the null handle, and returns its exit
// code.
func runChild(t *testing.T, marker string, stdout windows.Handle) uint32 {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, marker)
	cmdline, err := windows.UTF16PtrFromString(windows.EscapeArg(exe))
	if err != nil {
		t.Fatal(err)
	}
	if stdout != 0 {
		if err := windows.SetHandleInformation(stdout, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT); err != nil {
			t.Fatal(err)
		}
	}
	si := &windows.StartupInfo{Flags: windows.STARTF_USESTDHANDLES, StdOutput: stdout}
	si.Cb = uint32(unsafe.Sizeof(*si))
	var pi windows.ProcessInformation
	if err := windows.CreateProcess(nil, cmdline, nil, nil, stdout != 0, windows.DETACHED_PROCESS, nil, nil, si, &pi); err != nil {
		t.Fatalf("start the child: %v", err)
	}
	defer windows.CloseHandle(pi.Thread)
	defer windows.CloseHandle(pi.Process)
	if _, err := windows.WaitForSingleObject(pi.Process, windows.INFINITE); err != nil {
		t.Fatal(err)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(pi.Process, &code); err != nil {
		t.Fatal(err)
	}
	return code
}

// tempFile is a new empty file, removed after the test (os.Remove: Wine 8
// does not implement what os.RemoveAll, and so t.TempDir, needs).
func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "pgsafe-console-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		os.Remove(f.Name())
	})
	return f
}
