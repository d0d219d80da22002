package console

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// fakeSystem: the files in bad are unusable; attach fails with attachErr;
// open returns devices[name].
type fakeSystem struct {
	bad       map[*os.File]bool
	devices   map[string]*os.File
	attachErr error
	openErr   error
	attached  int
	opened    []string
}

func (f *fakeSystem) system() system {
	return system{
		usable: func(file *os.File) bool { return file != nil && !f.bad[file] },
		attach: func() error { f.attached++; return f.attachErr },
		open: func(name string, write bool) (*os.File, error) {
			f.opened = append(f.opened, name)
			if f.openErr != nil {
				return nil, f.openErr
			}
			return f.devices[name], nil
		},
	}
}

// nullFile is a real open file (the null device) standing for a stream.
func nullFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func streamsForTest(t *testing.T) Streams {
	return Streams{In: nullFile(t), Out: nullFile(t), Err: nullFile(t)}
}

func TestUsableStreamsAreKeptWithoutAttaching(t *testing.T) {
	std := streamsForTest(t)
	f := &fakeSystem{}
	got, err := attachParent(std, f.system())
	if err != nil || got != std {
		t.Fatalf("got %+v, %v; want the streams unchanged", got, err)
	}
	if f.attached != 0 || len(f.opened) != 0 {
		t.Fatalf("attached %d times, opened %v: nothing was needed", f.attached, f.opened)
	}
}

func TestOnlyTheMissingStreamsGoToTheConsole(t *testing.T) {
	// `pgsafe.exe version > out.txt` from cmd: stdout is the file, stdin
	// and stderr are missing.
	std := streamsForTest(t)
	conin, conout := nullFile(t), nullFile(t)
	f := &fakeSystem{bad: map[*os.File]bool{std.In: true, std.Err: true}, devices: map[string]*os.File{"CONIN$": conin, "CONOUT$": conout}}
	got, err := attachParent(std, f.system())
	if err != nil {
		t.Fatal(err)
	}
	if f.attached != 1 {
		t.Fatalf("attached %d times, want 1", f.attached)
	}
	if got.Out != std.Out {
		t.Error("stdout was replaced, want the redirected file kept")
	}
	if got.In != conin || got.Err != conout {
		t.Error("stdin and stderr are not the console's CONIN$ and CONOUT$")
	}
	if strings.Join(f.opened, " ") != "CONIN$ CONOUT$" {
		t.Errorf("opened %v", f.opened)
	}
}

func TestNoParentConsoleLeavesTheStreams(t *testing.T) {
	// Started from Explorer or the Run key: no console to attach to.
	std := streamsForTest(t)
	f := &fakeSystem{bad: map[*os.File]bool{std.In: true, std.Out: true, std.Err: true}, attachErr: errors.New("the handle is invalid")}
	got, err := attachParent(std, f.system())
	if err == nil || !strings.Contains(err.Error(), "the handle is invalid") {
		t.Fatalf("err = %v, want the attach error", err)
	}
	if got != std || len(f.opened) != 0 {
		t.Fatalf("got %+v, opened %v; want the streams unchanged and nothing opened", got, f.opened)
	}
}

func TestAConsoleThatWillNotOpenIsReported(t *testing.T) {
	std := streamsForTest(t)
	f := &fakeSystem{bad: map[*os.File]bool{std.Out: true}, openErr: errors.New("access denied")}
	got, err := attachParent(std, f.system())
	if err == nil || !strings.Contains(err.Error(), "CONOUT$") {
		t.Fatalf("err = %v, want one naming CONOUT$", err)
	}
	if got.Out != std.Out || got.In != std.In || got.Err != std.Err {
		t.Fatalf("got %+v, want the streams unchanged", got)
	}
}
