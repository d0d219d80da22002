// Package s3 is a storage in a bucket of Amazon S3 or of an S3-compatible
// service (MinIO, Wasabi, Backblaze B2, Ceph, versitygw, …), under an
// optional prefix: object NAME is the key Prefix/NAME.
//
// A Put is all-or-nothing because S3 itself is: an object appears only when
// a PutObject or CompleteMultipartUpload succeeds, and then replaces an older
// one atomically. A stream shorter than the first part goes up with one
// PutObject; a longer one with a multipart upload written here on the
// low-level client, which a failure or cancellation — of the network, the
// server or the stream being read — aborts (with a fresh context, so that a
// cancelled Put still cleans up the parts it sent).
//
// Parts grow with their number (see partSize): 8 MiB for the first 1000,
// doubling every 1000, so the 10,000 parts S3 allows hold about 8 TiB, more
// than S3's 5 TiB object limit, while small backups use small parts. Memory
// stays at two parts: one uploading while the next is read, the two buffers
// taking turns. Each part and small object carries its Content-MD5, which
// every S3-compatible service checks.
//
// Requests that fail on the network or with a server error are retried a
// few times with a short backoff; errors then say what to check, and never
// contain the secret access key or session token.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Config is a bucket, where it is, and the credentials to use it.
type Config struct {
	Endpoint     string // "" for AWS; "https://host:port" (https:// when no scheme is given)
	Region       string // "" is us-east-1
	Bucket       string
	Prefix       string // objects are stored under Prefix/ ("" for the bucket's root)
	PathStyle    bool   // host/bucket/key rather than bucket.host/key (most self-hosted servers)
	StorageClass string // "" for the bucket's default, e.g. STANDARD_IA
	SSE          string // server-side encryption: "", "AES256" or "aws:kms"

	// ObjectLockDays > 0 writes every object with an S3 Object Lock
	// retention of that many days from its upload, in ObjectLockMode
	// ("governance", the default, or "compliance"): until then the server
	// refuses to delete or overwrite it, whoever asks. The bucket must have
	// Object Lock enabled (CheckObjectLock).
	ObjectLockDays int
	ObjectLockMode string

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // for temporary credentials
}

func (c Config) region() string {
	if c.Region == "" {
		return "us-east-1"
	}
	return c.Region
}

// endpoint is the endpoint URL ("" for AWS), with https:// when no scheme
// was given.
func (c Config) endpoint() string {
	e := strings.TrimRight(strings.TrimSpace(c.Endpoint), "/")
	if e != "" && !strings.Contains(e, "://") {
		e = "https://" + e
	}
	return e
}

// keyPrefix is the prefix of every key: "" or "a/b/".
func (c Config) keyPrefix() string {
	if p := strings.Trim(c.Prefix, "/"); p != "" {
		return p + "/"
	}
	return ""
}

// place names the endpoint for messages, without any user:password in it.
func (c Config) place() string {
	e := c.endpoint()
	if e == "" {
		return "s3." + c.region() + ".amazonaws.com"
	}
	if u, err := url.Parse(e); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return e
}

// String names the bucket without secrets: "S3 bucket NAME at ENDPOINT/prefix".
func (c Config) String() string {
	s := "S3 bucket " + c.Bucket + " at " + c.place()
	if p := c.keyPrefix(); p != "" {
		s += "/" + strings.TrimSuffix(p, "/")
	}
	return s
}

// LogValue keeps slog from printing secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "s3.Config(" + c.String() + ")" }

// Format keeps every verb (%v, %+v, %d, %x, …) from printing secrets.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// S3 is a bucket (and prefix) of an S3 service.
type S3 struct {
	cfg    Config
	prefix string // cfg.keyPrefix()
	client *awss3.Client
}

// New returns the storage cfg describes, after checking that its bucket
// can be listed with its credentials.
func New(ctx context.Context, cfg Config) (*S3, error) {
	switch {
	case strings.TrimSpace(cfg.Bucket) == "":
		return nil, fmt.Errorf("enter the name of the S3 bucket")
	case cfg.AccessKeyID == "" || cfg.SecretAccessKey == "":
		return nil, fmt.Errorf("enter the access key ID and the secret access key for %s", cfg)
	case cfg.SSE != "" && cfg.SSE != string(types.ServerSideEncryptionAes256) && cfg.SSE != string(types.ServerSideEncryptionAwsKms):
		return nil, fmt.Errorf("unknown server-side encryption %q for %s: choose none, AES256 or aws:kms", cfg.SSE, cfg)
	}
	if err := cfg.checkLock(); err != nil {
		return nil, err
	}
	opts := awss3.Options{
		Region:       cfg.region(),
		UsePathStyle: cfg.PathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		Retryer:      newRetryer(),
		// Content-MD5 rather than the newer checksums, which several
		// S3-compatible services reject.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if e := cfg.endpoint(); e != "" {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("the endpoint %q of the S3 bucket %s is not an address like https://s3.example.com or http://host:9000", cfg.place(), cfg.Bucket)
		}
		opts.BaseEndpoint = aws.String(e)
	}
	s := &S3{cfg: cfg, prefix: cfg.keyPrefix(), client: awss3.New(opts)}
	_, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket: aws.String(cfg.Bucket), Prefix: aws.String(s.prefix), MaxKeys: aws.Int32(1)})
	if err != nil {
		return nil, s.explain(err, "list the objects of")
	}
	return s, nil
}

func (s *S3) String() string { return s.cfg.String() }

// key maps an object name to its key, refusing names that are not clean
// relative paths.
func (s *S3) key(name string) (string, error) {
	if name == "" || path.Clean("/"+name) != "/"+name || strings.Contains(name, "\\") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return s.prefix + name, nil
}

func (s *S3) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return nil, s.explain(err, "read "+name+" from")
	}
	return out.Body, nil
}

func (s *S3) Stat(ctx context.Context, name string) (storage.Info, error) {
	key, err := s.key(name)
	if err != nil {
		return storage.Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return storage.Info{}, s.explain(err, "look up "+name+" in")
	}
	return storage.Info{Name: name, Size: aws.ToInt64(out.ContentLength), Modified: aws.ToTime(out.LastModified)}, nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	var out []storage.Info
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: &s.cfg.Bucket, Prefix: aws.String(s.prefix + prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.explain(err, "list the objects of")
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if name == "" || strings.HasSuffix(name, "/") {
				continue // a "folder" made by a console, not an object of ours
			}
			out = append(out, storage.Info{Name: name, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveTemp aborts the incomplete multipart uploads under prefix that stale
// picks; their Temp.Modified is when the upload started.
func (s *S3) RemoveTemp(ctx context.Context, prefix string, stale func(storage.Temp) bool) ([]storage.Temp, error) {
	var out []storage.Temp
	pages := awss3.NewListMultipartUploadsPaginator(s.client, &awss3.ListMultipartUploadsInput{
		Bucket: &s.cfg.Bucket, Prefix: aws.String(s.prefix + prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, s.explain(err, "list the unfinished uploads of")
		}
		for _, u := range page.Uploads {
			name := strings.TrimPrefix(aws.ToString(u.Key), s.prefix)
			t := storage.Temp{Name: name + " (upload " + aws.ToString(u.UploadId) + ")", Object: name, Modified: aws.ToTime(u.Initiated)}
			if !stale(t) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: u.Key, UploadId: u.UploadId})
			if err != nil && !isNoSuchUpload(err) {
				return out, s.explain(err, "abort an unfinished upload to")
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// Delete looks the object up first: S3's DeleteObject succeeds on a missing
// key. In a storage with Object Lock it deletes the object's current
// version, which frees its space (deleting without a version only hides the
// object behind a delete marker in a versioned bucket). A delete the server
// refuses with AccessDenied is storage.ErrDeleteRefused: a
// *storage.LockedError when the object is locked until a later date.
func (s *S3) Delete(ctx context.Context, name string) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return s.explain(err, "look up "+name+" in")
	}
	in := &awss3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key}
	if s.cfg.ObjectLockDays > 0 && aws.ToString(head.VersionId) != "" && aws.ToString(head.VersionId) != "null" {
		in.VersionId = head.VersionId
	}
	_, err = s.client.DeleteObject(ctx, in)
	if isAccessDenied(err) {
		if until := aws.ToTime(head.ObjectLockRetainUntilDate); until.After(time.Now()) {
			return fmt.Errorf("cannot delete %s from %s: %w", name, s, &storage.LockedError{Name: name, Until: until})
		}
		return fmt.Errorf("cannot delete %s from %s: %w (its access key may write but not delete, or the object is locked)", name, s, storage.ErrDeleteRefused)
	}
	return s.explain(err, "delete "+name+" from")
}

func isAccessDenied(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "AccessDenied"
}

// isNoSuchUpload: the upload was completed or aborted meanwhile.
func isNoSuchUpload(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload"
}
