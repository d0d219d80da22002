// Package console gives the Windows app, a GUI-subsystem program, the
// console of the cmd or PowerShell window it was started from when it runs
// a command (`pgsafe.exe version`): Windows hands such a program no usable
// standard streams, so without this it prints nothing. Streams the caller
// redirected (`pgsafe.exe version > out.txt`, a pipe) are kept as they are.
// On other systems, and for a console-subsystem program, it does nothing.
package console

import (
	"fmt"
	"os"
)

// Streams are a process's standard input, output and error.
type Streams struct {
	In, Out, Err *os.File
}

// system is what Streams needs from the OS (the Windows calls; fakes in
// the tests).
type system struct {
	// usable reports whether f is a stream the process can use: a console,
	// file or pipe handle, not the null handle a GUI program gets.
	usable func(f *os.File) bool
	// attach attaches the process to its parent's console.
	attach func() error
	// open opens a console device: CONIN$ or CONOUT$ (write: for output).
	open func(name string, write bool) (*os.File, error)
}

// attachParent returns std with each unusable stream replaced by the parent
// process's console. It attaches only when a stream needs it; when there is
// no parent console (started from Explorer, a shortcut or the Run key) it
// returns std unchanged and the error.
func attachParent(std Streams, sys system) (Streams, error) {
	inOK, outOK, errOK := sys.usable(std.In), sys.usable(std.Out), sys.usable(std.Err)
	if inOK && outOK && errOK {
		return std, nil
	}
	if err := sys.attach(); err != nil {
		return std, fmt.Errorf("attach to the parent's console: %w", err)
	}
	got := std
	var firstErr error
	replace := func(ok bool, f **os.File, name string, write bool) {
		if ok {
			return
		}
		c, err := sys.open(name, write)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("open the console (%s): %w", name, err)
			}
			return
		}
		*f = c
	}
	replace(inOK, &got.In, "CONIN$", false)
	replace(outOK, &got.Out, "CONOUT$", true)
	replace(errOK, &got.Err, "CONOUT$", true)
	return got, firstErr
}
