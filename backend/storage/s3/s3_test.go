package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

const bucket = "pgsafe-test"

func server(t *testing.T) (*testenv.S3Server, Config) {
	srv := testenv.S3(t)
	srv.CreateBucket(t, bucket)
	return srv, Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
}

func open(t *testing.T, cfg Config) *S3 {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noPendingUploads fails if a multipart upload was left in the bucket.
func noPendingUploads(t *testing.T, srv *testenv.S3Server) {
	t.Helper()
	out, err := srv.NewClient().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left behind, e.g. %s", len(out.Uploads), aws.ToString(out.Uploads[0].Key))
	}
}

// hookReader reads r, and once it has given `after` bytes calls hook: a
// non-nil error from hook is the stream's error from then on.
type hookReader struct {
	r     io.Reader
	after int
	hook  func() error
	err   error
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	if h.after <= 0 && h.hook != nil {
		h.err, h.hook = h.hook(), nil
		if h.err != nil {
			return 0, h.err
		}
	}
	if h.hook != nil && len(p) > h.after {
		p = p[:h.after]
	}
	n, err := h.r.Read(p)
	h.after -= n
	return n, err
}

func random(n int) io.Reader { return io.LimitReader(rand.Reader, int64(n)) }

func TestPartSize(t *testing.T) {
	var total, prev int64
	for n := 1; n <= maxParts; n++ {
		size := partSize(n)
		if size < minPartSize || size > maxPartSize || size < prev {
			t.Fatalf("partSize(%d) = %d (previous %d)", n, size, prev)
		}
		total, prev = total+size, size
	}
	if total < 5<<40 {
		t.Fatalf("%d parts hold %d GiB, less than S3's 5 TiB object limit", maxParts, total>>30)
	}
	if partSize(1) != firstPart {
		t.Fatalf("partSize(1) = %d", partSize(1))
	}
}

func TestConformance(t *testing.T) {
	srv, cfg := server(t)
	t.Run("bucket root", func(t *testing.T) { storagetest.Run(t, open(t, cfg)) })
	t.Run("prefix", func(t *testing.T) {
		cfg := cfg
		cfg.Prefix = "backups/pg" // no trailing slash
		s := open(t, cfg)
		if got, want := s.String(), "S3 bucket "+bucket+" at "+srv.Endpoint+"/backups/pg"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		storagetest.Run(t, s)

		// The objects really are under the prefix, and only those are listed.
		ctx := context.Background()
		if err := s.Put(ctx, "db/x", strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		if err := open(t, cfg.withPrefix("")).Put(ctx, "backups/pgother", strings.NewReader("y")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(srv.Dir, bucket, "backups/pg/db/x")); err != nil {
			t.Errorf("object not under the prefix: %v", err)
		}
		list, err := s.List(ctx, "")
		if err != nil || len(list) != 1 || list[0].Name != "db/x" || list[0].Size != 1 || list[0].Modified.IsZero() {
			t.Errorf("List = %+v, %v", list, err)
		}
	})
	noPendingUploads(t, srv)
}

func (c Config) withPrefix(p string) Config { c.Prefix = p; return c }

func TestMultipart(t *testing.T) {
	srv, cfg := server(t)
	s := open(t, cfg)
	ctx := context.Background()

	data := make([]byte, 20<<20+5)
	rand.Read(data)
	if err := s.Put(ctx, "big", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	head, err := srv.NewClient().HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big")})
	if err != nil || !strings.HasSuffix(aws.ToString(head.ETag), `-3"`) {
		t.Errorf("not stored as 3 parts: ETag %s, %v", aws.ToString(head.ETag), err)
	}
	rc, err := s.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), wrote %d", len(got), err, len(data))
	}

	t.Run("a stream failing after 12 MiB leaves nothing", func(t *testing.T) {
		if err := s.Put(ctx, "big", strings.NewReader("old")); err != nil {
			t.Fatal(err)
		}
		failing := &hookReader{r: random(30 << 20), after: 12 << 20, hook: func() error { return errors.New("source failed") }}
		err := s.Put(ctx, "big", failing)
		if err == nil || !strings.Contains(err.Error(), "reading the data to store failed (nothing was stored): source failed") {
			t.Fatalf("Put: %v", err)
		}
		if info, err := s.Stat(ctx, "big"); err != nil || info.Size != 3 {
			t.Fatalf("the older object changed: %+v, %v", info, err)
		}
		if err := s.Put(ctx, "new", &hookReader{r: random(30 << 20), after: 12 << 20, hook: func() error { return errors.New("source failed") }}); err == nil {
			t.Fatal("Put succeeded")
		}
		if _, err := s.Stat(ctx, "new"); !storage.IsNotFound(err) {
			t.Fatalf("a failed Put left an object: %v", err)
		}
		noPendingUploads(t, srv)
	})

	t.Run("cancelled after 12 MiB leaves nothing", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r := &hookReader{r: random(30 << 20), after: 12 << 20, hook: func() error { cancel(); return nil }}
		err := s.Put(cctx, "cancelled", r)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing was stored") {
			t.Fatalf("Put: %v", err)
		}
		if _, err := s.Stat(ctx, "cancelled"); !storage.IsNotFound(err) {
			t.Fatalf("a cancelled Put left an object: %v", err)
		}
		noPendingUploads(t, srv)
	})
}

// recorder notes the requests a client sends.
type recorder struct {
	next awss3.HTTPClient
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, &http.Request{Method: req.Method, URL: req.URL, Header: req.Header.Clone()})
	r.mu.Unlock()
	return r.next.Do(req)
}

func TestHeaders(t *testing.T) {
	_, cfg := server(t)
	cfg.StorageClass, cfg.SSE = "STANDARD_IA", "AES256"
	s := open(t, cfg)
	opts := s.client.Options()
	rec := &recorder{next: opts.HTTPClient}
	opts.HTTPClient = rec
	s.client = awss3.New(opts)
	ctx := context.Background()
	if err := s.Put(ctx, "small", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "big", random(9<<20)); err != nil {
		t.Fatal(err)
	}
	var create, put, parts int
	for _, r := range rec.reqs {
		q := r.URL.Query()
		classAndSSE := r.Header.Get("X-Amz-Storage-Class") == "STANDARD_IA" && r.Header.Get("X-Amz-Server-Side-Encryption") == "AES256"
		switch {
		case r.Method == "POST" && q.Has("uploads"):
			create++
			if !classAndSSE {
				t.Errorf("CreateMultipartUpload without storage class or SSE: %v", r.Header)
			}
		case r.Method == "PUT" && q.Has("partNumber"):
			parts++
			if r.Header.Get("Content-Md5") == "" {
				t.Errorf("UploadPart without Content-MD5: %v", r.Header)
			}
		case r.Method == "PUT":
			put++
			if !classAndSSE || r.Header.Get("Content-Md5") == "" {
				t.Errorf("PutObject without storage class, SSE or Content-MD5: %v", r.Header)
			}
		}
	}
	if create != 1 || put != 1 || parts != 2 {
		t.Errorf("%d CreateMultipartUpload, %d PutObject, %d UploadPart", create, put, parts)
	}
}

// TestErrors checks that each failure says what to check, in words.
func TestErrors(t *testing.T) {
	srv, cfg := server(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"wrong secret", func(c *Config) { c.SecretAccessKey = "wrong-secret-0123456789" }, "the secret access key is wrong"},
		{"unknown access key", func(c *Config) { c.AccessKeyID = "AKUNKNOWN0123" }, "the server does not know the access key ID"},
		{"missing bucket", func(c *Config) { c.Bucket = "nope" }, "cannot list the objects of S3 bucket nope at " + srv.Endpoint + ": the bucket does not exist"},
		{"closed port", func(c *Config) { c.Endpoint = "http://" + closedAddr }, "at http://" + closedAddr + ": nothing answers at the endpoint (connection refused)"},
		{"unknown host", func(c *Config) { c.Endpoint = "http://pgsafe-nowhere.invalid" }, "the host name pgsafe-nowhere.invalid is unknown"},
		{"TLS to a plain HTTP server", func(c *Config) { c.Endpoint = strings.Replace(srv.Endpoint, "http:", "https:", 1) }, "the server does not speak TLS"},
		{"no credentials", func(c *Config) { c.SecretAccessKey = "" }, "enter the access key ID and the secret access key"},
		{"bad SSE", func(c *Config) { c.SSE = "rot13" }, `unknown server-side encryption "rot13"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := cfg
			c.edit(&cfg)
			start := time.Now()
			_, err := New(context.Background(), cfg)
			t.Logf("%v: %v", time.Since(start).Round(time.Millisecond), err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v\nwant %q", err, c.want)
			}
			if strings.Contains(err.Error(), srv.SecretKey) || strings.Contains(err.Error(), "wrong-secret") {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}

	t.Run("server stopped mid-upload", func(t *testing.T) {
		s := open(t, cfg)
		start := time.Now()
		r := &hookReader{r: random(40 << 20), after: 12 << 20, hook: func() error { srv.Stop(); return nil }}
		err := s.Put(context.Background(), "stopped", r)
		t.Logf("%v: %v", time.Since(start).Round(time.Millisecond), err)
		if err == nil {
			t.Fatal("Put succeeded")
		}
		// Refused when the next part starts, lost when one was in flight.
		msg := err.Error()
		if !strings.Contains(msg, "cannot upload stopped to "+s.String()) ||
			!(strings.Contains(msg, "nothing answers at the endpoint") || strings.Contains(msg, "the connection to the server was lost")) {
			t.Fatalf("Put: %v", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("Put took %v", d)
		}
		if _, err := os.Stat(filepath.Join(srv.Dir, bucket, "stopped")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("an object was stored: %v", err)
		}
	})
}

func TestNoSecrets(t *testing.T) {
	cfg := Config{Endpoint: "https://user:hunter2@s3.example.com/", Bucket: "b", Prefix: "/p/", AccessKeyID: "AKIDEXAMPLE",
		SecretAccessKey: "SECRET-wJalrXUtnFEMI", SessionToken: "TOKEN-FwoGZXIvYXdzE"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("storage", "cfg", cfg, "ptr", &cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("storage", "cfg", cfg)
	out := fmt.Sprintf("%v %+v %#v %s %q %x %d %v %+v %#v", cfg, cfg, cfg, cfg, cfg, cfg, cfg, &cfg, []Config{cfg}, struct{ C Config }{cfg}) + logged.String()
	for _, secret := range []string{"wJalrXUtnFEMI", "FwoGZXIvYXdzE", "hunter2"} {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret is printed: %s", out)
		}
	}
	if want := "S3 bucket b at https://s3.example.com/p"; cfg.String() != want {
		t.Errorf("String() = %q, want %q", cfg.String(), want)
	}
	if got := (Config{Bucket: "b", Region: "eu-west-3"}).String(); got != "S3 bucket b at s3.eu-west-3.amazonaws.com" {
		t.Errorf("String() = %q", got)
	}
}
