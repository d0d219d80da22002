package webdav_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
	"github.com/pgsafe/pgsafe/backend/storage/webdav"
)

// ncLimit is the fake Nextcloud's largest request body: above the 9 MiB
// single PUTs of the conformance suite and the 10 MiB chunks, below the
// objects that need chunks.
const ncLimit = 12 << 20

func nextcloud(t *testing.T) (*testenv.NextcloudServer, *testenv.WebDAVServer) {
	dav := testenv.WebDAV(t)
	return testenv.Nextcloud(t, dav, ncLimit), dav
}

func ncConfig(nc *testenv.NextcloudServer) webdav.Config {
	return webdav.Config{URL: nc.URL, User: nc.User, Password: nc.Password}
}

func TestNextcloudConformance(t *testing.T) {
	nc, _ := nextcloud(t)
	storagetest.Run(t, open(t, ncConfig(nc)))
	if ups := nc.Uploads(); len(ups) != 0 {
		t.Fatalf("upload folders left: %v", ups)
	}
}

// Objects bigger than one chunk go up in chunks that land byte-identical,
// where one PUT is refused (413) by the server's body limit.
func TestNextcloudChunkedUpload(t *testing.T) {
	nc, dav := nextcloud(t)
	w := open(t, ncConfig(nc))
	ctx := context.Background()

	big := make([]byte, 25<<20+123)
	rand.Read(big)
	req, _ := http.NewRequest(http.MethodPut, nc.URL+"one-put.bin", bytes.NewReader(big))
	req.SetBasicAuth(nc.User, nc.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("one PUT of %d bytes answered %s; want 413 (the limit the chunks get around)", len(big), resp.Status)
	}

	for _, tc := range []struct {
		name   string
		data   []byte
		chunks int
	}{
		{"db/big.pgsafe", big, 3},
		{"db/big.pgsafe", big[7 : 7+10<<20], 1}, // exactly one chunk, over an older object
		{"db/small.pgsafe", big[:10<<20-1], 0},  // fits in one request: one PUT
	} {
		before := len(nc.Log())
		if err := w.Put(ctx, tc.name, bytes.NewReader(tc.data)); err != nil {
			t.Fatalf("Put of %d bytes: %v", len(tc.data), err)
		}
		got, err := os.ReadFile(filepath.Join(dav.Root, tc.name))
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s on the server: %d bytes (%v), not the %d sent", tc.name, len(got), err, len(tc.data))
		}
		log := nc.Log()[before:]
		if tc.chunks == 0 {
			if len(log) != 0 {
				t.Fatalf("a stream of one chunk made uploads requests: %v", log)
			}
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(log[0], "MKCOL "), "/")
		want := []string{"MKCOL " + id}
		for i := 1; i <= tc.chunks; i++ {
			want = append(want, "PUT "+id+"/"+string(rune('0'+i)))
		}
		want = append(want, "MOVE "+id+"/.file")
		if strings.Join(log, ",") != strings.Join(want, ",") {
			t.Fatalf("uploads requests %v; want %v", log, want)
		}
	}
	if ups := nc.Uploads(); len(ups) != 0 {
		t.Fatalf("upload folders left: %v", ups)
	}
	if list, err := w.List(ctx, ""); err != nil || len(list) != 2 || list[0].Name != "db/big.pgsafe" || list[0].Size != 10<<20 {
		t.Fatalf("List = %+v, %v; want db/big.pgsafe (10 MiB) and db/small.pgsafe, no temporary file", list, err)
	}
}

// A chunked upload that is cancelled, or whose stream fails, leaves no
// upload folder, no temporary file and no object.
func TestNextcloudFailedUploadLeavesNothing(t *testing.T) {
	nc, _ := nextcloud(t)
	w := open(t, ncConfig(nc))
	for _, how := range []string{"cancel", "stream fails"} {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- w.Put(ctx, "db/x.pgsafe", pr) }()
		go pw.Write(make([]byte, 15<<20))
		<-nc.Stored // chunk 1 is on the server
		if len(nc.Uploads()) != 1 {
			t.Fatalf("%s: no upload folder while chunks go up: %v", how, nc.Uploads())
		}
		if how == "cancel" {
			cancel()
			go pw.Write(make([]byte, 1<<20)) // the stream goes on: the Put must stop by itself
		} else {
			pw.CloseWithError(errors.New("pipeline broke"))
		}
		err := <-done
		cancel()
		pr.Close()
		if err == nil {
			t.Fatalf("%s: Put succeeded", how)
		}
		if how == "cancel" && !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Put: %v", err)
		}
		if how != "cancel" && !strings.Contains(err.Error(), "pipeline broke") {
			t.Fatalf("Put with a failing stream: %v", err)
		}
		if ups := nc.Uploads(); len(ups) != 0 {
			t.Fatalf("%s: upload folders left: %v", how, ups)
		}
		if list, err := w.List(context.Background(), ""); err != nil || len(list) != 0 {
			t.Fatalf("%s: left behind %+v (%v)", how, list, err)
		}
		sw := storage.TempSweeper(w)
		if left, err := sw.RemoveTemp(context.Background(), "", func(storage.Temp) bool { return true }); err != nil || len(left) != 0 {
			t.Fatalf("%s: temporary files left: %+v (%v)", how, left, err)
		}
	}
}

// The upload folder of an upload whose PgSafe was killed is found (by its
// temporary file) and removed by RemoveTemp.
func TestNextcloudRemoveTempRemovesUploadFolder(t *testing.T) {
	nc, _ := nextcloud(t)
	w := open(t, ncConfig(nc))
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- w.Put(ctx, "db/x.pgsafe", pr) }()
	go pw.Write(make([]byte, 15<<20))
	<-nc.Stored
	removed, err := w.RemoveTemp(ctx, "db/", func(storage.Temp) bool { return true })
	if err != nil || len(removed) != 1 || removed[0].Object != "db/x.pgsafe" {
		t.Fatalf("RemoveTemp = %+v, %v; want the temporary file of db/x.pgsafe", removed, err)
	}
	if ups := nc.Uploads(); len(ups) != 0 {
		t.Fatalf("RemoveTemp left the upload folders %v", ups)
	}
	pw.Close() // the stream ends; the next chunk has no upload folder to go to
	if err := <-done; err == nil {
		t.Fatal("a Put whose upload folder was removed succeeded")
	}
	if _, err := w.Stat(ctx, "db/x.pgsafe"); !storage.IsNotFound(err) {
		t.Fatalf("a swept upload left an object: %v", err)
	}
}
