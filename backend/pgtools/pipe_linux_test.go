package pgtools

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The pipe a client program writes into is grown to 1 MiB, without the
// descriptor leaving Go's poller.
func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(r)
	rc, _ := r.SyscallConn()
	var size int
	var ferr error
	rc.Control(func(fd uintptr) { size, ferr = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	if ferr != nil || size != 1<<20 {
		t.Fatalf("pipe size %d, %v; want 1 MiB", size, ferr)
	}
	if err := r.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		t.Fatalf("the pipe left the poller: %v", err)
	}
}
