package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a running versitygw: an S3 server that checks SigV4 signatures,
// storing buckets as directories under Dir. Refusals as seen by
// aws-sdk-go-v2: a wrong secret is 403 SignatureDoesNotMatch; an unknown
// access key is 404 XAdminUserNotFound (AWS says 403 InvalidAccessKeyId).
type S3Server struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string // random per server
	SecretKey string // random per server
	Region    string // us-east-1
	// Dir is the posix backend's root: bucket B's object K is the file
	// Dir/B/K.
	Dir string
	// NoMeta is true when Dir's filesystem has no user xattrs and versitygw
	// runs with --nometa (no object metadata).
	NoMeta bool

	proc *proc
}

// S3 starts versitygw (posix backend on a temp dir; --nometa if the temp
// filesystem has no user xattrs) on a free 127.0.0.1 port with a random
// access key and secret, waits until it answers an authenticated request, and
// stops it at cleanup. The binary is <tools>/bin/versitygw (`make test-deps`).
// Tests may call it in parallel.
func S3(t testing.TB, opts ...S3Option) *S3Server {
	t.Helper()
	var o s3Options
	for _, opt := range opts {
		opt(&o)
	}
	bin := filepath.Join(ToolsDir(t), "bin", "versitygw")
	requireExecutable(t, bin, "versitygw (the S3 test server)", InstallHint)

	base := tempDir(t, "s3", nil)
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s := &S3Server{
		AccessKey: "AK" + strings.ToUpper(randomHex(9)),
		SecretKey: randomHex(20),
		Region:    "us-east-1",
		Dir:       dir,
		NoMeta:    !xattrsWork(dir),
	}
	var env []string
	for _, kv := range os.Environ() {
		// versitygw reads many settings from VGW_* and ROOT_* variables.
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		s.Endpoint = "http://" + addr
		args := []string{"--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
			"--port", addr, "--quiet", "posix"}
		if o.iam {
			iamDir := filepath.Join(base, "iam")
			if err := os.MkdirAll(iamDir, 0o700); err != nil {
				t.Fatalf("testenv: %v", err)
			}
			args = append(args[:len(args)-1], "--iam-dir", iamDir, "posix")
		}
		if s.NoMeta {
			if o.versioning {
				t.Fatalf("testenv: versitygw keeps Object Lock and versions in extended attributes, which %s does not support: run the tests with TMPDIR on a filesystem with user xattrs (ext4, xfs, tmpfs)", dir)
			}
			args = append(args, "--nometa")
		}
		if o.versioning {
			vdir := filepath.Join(base, "versions")
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				t.Fatalf("testenv: %v", err)
			}
			args = append(args, "--versioning-dir", vdir)
		}
		args = append(args, dir)
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Dir = base
		p := startProc(t, "versitygw", cmd, nil)
		lastErr = s.waitReady(p, 15*time.Second)
		if lastErr == nil {
			s.proc = p
			return s
		}
		p.stop(syscall.SIGTERM, 5*time.Second)
		if !strings.Contains(p.out.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("testenv: versitygw did not start: %v", lastErr)
	return nil
}

// S3Option changes how S3 starts versitygw.
type S3Option func(*s3Options)

type s3Options struct{ versioning, iam bool }

// S3Versioning runs versitygw with bucket versioning (--versioning-dir), as
// AWS S3 Object Lock needs: a bucket made with CreateLockedBucket keeps
// every version, and deleting a locked version is refused.
func S3Versioning() S3Option { return func(o *s3Options) { o.versioning = true } }

// S3Users runs versitygw with its internal IAM (--iam-dir), so that tests
// can add users (CreateUser) and restrict them with bucket policies.
func S3Users() S3Option { return func(o *s3Options) { o.iam = true } }

// CreateLockedBucket creates bucket name with Object Lock enabled (the
// server must run with S3Versioning).
func (s *S3Server) CreateLockedBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.NewClient().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)})
	if err != nil {
		t.Fatalf("testenv: creating bucket %q with Object Lock: %v", name, err)
	}
}

// CreateUser adds a user (role "user": it owns no bucket and may do only
// what bucket policies allow it) with a random access key and secret, and
// returns them. The server must run with S3Users.
func (s *S3Server) CreateUser(t testing.TB) (accessKey, secretKey string) {
	t.Helper()
	accessKey, secretKey = "AK"+strings.ToUpper(randomHex(9)), randomHex(20)
	cmd := exec.Command(filepath.Join(ToolsDir(t), "bin", "versitygw"), "admin", "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--endpoint-url", s.Endpoint, "create-user", "--access", accessKey, "--secret", secretKey, "--role", "user")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: versitygw admin create-user: %v: %s", err, out)
	}
	return accessKey, secretKey
}

// SetBucketPolicy sets bucket's policy (a JSON policy document).
func (s *S3Server) SetBucketPolicy(t testing.TB, bucket, policy string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.NewClient().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("testenv: setting the policy of bucket %q: %v", bucket, err)
	}
}

// waitReady waits until the server answers ListBuckets with our credentials
// (so a stranger on a reused port does not count).
func (s *S3Server) waitReady(p *proc, timeout time.Duration) error {
	client := s.ClientWith(s.AccessKey, s.SecretKey)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			if p.exited() {
				return fmt.Errorf("%s", p.describeExit())
			}
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s", p.describeExit())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s after %v: %v; %s", s.Endpoint, timeout, err, p.describeExit())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server now, as a crash would: open connections drop and
// new ones are refused. Cleanup stops it otherwise; stopping twice is
// harmless.
func (s *S3Server) Stop() { s.proc.stop(syscall.SIGKILL, 5*time.Second) }

// NewClient returns an S3 client for this server (path-style addressing,
// static credentials, Region).
func (s *S3Server) NewClient() *s3.Client {
	return s.ClientWith(s.AccessKey, s.SecretKey)
}

// ClientWith returns a client for this server that signs with the given
// credentials, e.g. a wrong secret.
func (s *S3Server) ClientWith(accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		// Tests want the first error, not three attempts of it.
		RetryMaxAttempts: 1,
	})
}

// CreateBucket creates bucket name, failing the test on error.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.NewClient().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testenv: creating bucket %q: %v", name, err)
	}
}

// xattrsWork reports whether dir's filesystem accepts user extended
// attributes, which versitygw's posix backend keeps metadata in.
func xattrsWork(dir string) bool {
	f, err := os.CreateTemp(dir, ".xattr-probe-")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	err = setXattr(name, "user.pgsafe.probe", []byte("1"))
	return err == nil || !errors.Is(err, errXattrUnsupported)
}
