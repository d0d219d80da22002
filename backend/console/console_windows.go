package console

import (
	"os"

	"golang.org/x/sys/windows"
)

// AttachParent returns the standard streams a command should use: std
// where usable, else the console of the parent process (cmd, PowerShell),
// also made this process's standard handles so that programs it starts
// inherit them. With no parent console it returns std and an error (there
// is nowhere to print; the caller goes on).
func AttachParent(std Streams) (Streams, error) {
	got, err := attachParent(std, system{usable: usable, attach: attachParentConsole, open: openConsole})
	setStd(windows.STD_INPUT_HANDLE, std.In, got.In)
	setStd(windows.STD_OUTPUT_HANDLE, std.Out, got.Out)
	setStd(windows.STD_ERROR_HANDLE, std.Err, got.Err)
	return got, err
}

// usable: a handle of a known type (a console, a file, a pipe, NUL).
// A GUI program started without redirection gets the null handle, or a
// handle of no known type.
func usable(f *os.File) bool {
	if f == nil {
		return false
	}
	h := windows.Handle(f.Fd())
	if h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}

// attachParentProcess is AttachConsole's "the parent process" (DWORD -1).
const attachParentProcess = ^uint32(0)

// attachParentConsole calls kernel32's AttachConsole (golang.org/x/sys has
// no wrapper for it).
func attachParentConsole() error {
	proc := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	if err := proc.Find(); err != nil {
		return err
	}
	if r, _, err := proc.Call(uintptr(attachParentProcess)); r == 0 {
		return err
	}
	return nil
}

// openConsole opens CONIN$ or CONOUT$ with CreateFile, for reading and
// writing, as the console documentation says (os.OpenFile's handle to
// CONOUT$ is no console handle under Wine); Go writes to a console handle
// with WriteConsoleW (any text, not only the console's code page).
func openConsole(name string, _ bool) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), name), nil
}

func setStd(which uint32, before, after *os.File) {
	if after == nil || after == before {
		return
	}
	// Best effort: a child started later inherits the console; this
	// process's own streams are already the returned files.
	_ = windows.SetStdHandle(which, windows.Handle(after.Fd()))
}
