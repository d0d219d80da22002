package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
)

func lockedServer(t *testing.T, days int, mode string) (*testenv.S3Server, Config) {
	srv := testenv.S3(t, testenv.S3Versioning())
	srv.CreateLockedBucket(t, bucket)
	return srv, Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, ObjectLockDays: days, ObjectLockMode: mode}
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Every object, small (one PutObject) or large (multipart), is written with
// the storage's retention; the server itself refuses to delete its version
// before the date, even with the bucket owner's keys, and PgSafe's Delete
// says until when it is kept.
func TestObjectLockRetention(t *testing.T) {
	for _, mode := range []string{LockGovernance, LockCompliance} {
		t.Run(mode, func(t *testing.T) {
			srv, cfg := lockedServer(t, 3, mode)
			ctx := context.Background()
			s := open(t, cfg)
			if err := s.CheckObjectLock(ctx); err != nil {
				t.Fatalf("CheckObjectLock on a bucket with Object Lock: %v", err)
			}
			big := make([]byte, firstPart+1000)
			rand.Read(big)
			raw := srv.NewClient()
			for name, data := range map[string][]byte{"db/small.manifest": []byte("manifest"), "db/big.dump": big} {
				before := time.Now()
				if err := s.Put(ctx, name, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				head, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				if want := types.ObjectLockMode(strings.ToUpper(mode)); head.ObjectLockMode != want {
					t.Errorf("%s: lock mode %q, want %q", name, head.ObjectLockMode, want)
				}
				until := aws.ToTime(head.ObjectLockRetainUntilDate)
				if lo, hi := before.Add(72*time.Hour-time.Second), time.Now().Add(72*time.Hour+time.Second); until.Before(lo) || until.After(hi) {
					t.Errorf("%s: retained until %v, want 3 days after its upload (%v … %v)", name, until, lo, hi)
				}
				// The server refuses the bucket owner's keys deleting the
				// version itself; in compliance mode even when asking to
				// bypass the retention (in governance mode, an account
				// allowed to bypass can: PgSafe never asks to).
				_, err = raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(name),
					VersionId: head.VersionId, BypassGovernanceRetention: aws.Bool(mode == LockCompliance)})
				if apiCode(err) != "AccessDenied" {
					t.Errorf("%s: deleting a locked version: %v, want AccessDenied from the server", name, err)
				}
				err = s.Delete(ctx, name)
				var locked *storage.LockedError
				if !errors.As(err, &locked) || !errors.Is(err, storage.ErrDeleteRefused) || !locked.Until.Equal(until) {
					t.Errorf("%s: Delete = %v, want a LockedError until %v", name, err, until)
				}
				if !strings.Contains(err.Error(), "kept until "+until.Local().Format("2006-01-02")) {
					t.Errorf("%s: Delete's message %q does not say until when it is kept", name, err)
				}
				got, err := readAll(ctx, s, name)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: after the refused delete: %v (same data: %v)", name, err, bytes.Equal(got, data))
				}
			}
		})
	}
}

// Once its retention has passed, Delete removes the object's version itself,
// freeing its space, rather than hiding it behind a delete marker.
func TestObjectLockDeleteAfterTheDate(t *testing.T) {
	srv, cfg := lockedServer(t, 1, "")
	ctx := context.Background()
	s := open(t, cfg)
	raw := srv.NewClient()
	until := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	_, err := raw.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("db/old.dump"),
		Body: bytes.NewReader([]byte("old")), ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "db/old.dump"); !errors.Is(err, storage.ErrDeleteRefused) {
		t.Fatalf("Delete before the date = %v, want refused", err)
	}
	time.Sleep(time.Until(until) + 100*time.Millisecond) // the date itself is what the test waits for
	if err := s.Delete(ctx, "db/old.dump"); err != nil {
		t.Fatalf("Delete after the date: %v", err)
	}
	vs, err := raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("db/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) != 0 || len(vs.DeleteMarkers) != 0 {
		t.Errorf("after Delete: %d versions and %d delete markers left, want none", len(vs.Versions), len(vs.DeleteMarkers))
	}
}

func TestCheckObjectLockRefusesAnUnlockedBucket(t *testing.T) {
	_, cfg := server(t)
	cfg.ObjectLockDays = 7
	err := open(t, cfg).CheckObjectLock(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not have Object Lock enabled") || !strings.Contains(err.Error(), "create a bucket with Object Lock") {
		t.Fatalf("CheckObjectLock on a bucket without Object Lock = %v", err)
	}
}

func TestObjectLockSettingsChecked(t *testing.T) {
	for _, c := range []struct {
		days int
		mode string
		want string
	}{{-1, "", "between 0"}, {MaxLockDays + 1, "", "between 0"}, {7, "legal", "choose governance or compliance"}} {
		_, err := New(context.Background(), Config{Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s", ObjectLockDays: c.days, ObjectLockMode: c.mode})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("days %d mode %q: %v, want %q", c.days, c.mode, err, c.want)
		}
	}
}

// Write-only credentials: a policy that lets PgSafe's key put but not
// delete. Delete says the storage refuses, and the object stays.
func TestWriteOnlyCredentials(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Users())
	srv.CreateBucket(t, bucket)
	ak, sk := srv.CreateUser(t)
	srv.SetBucketPolicy(t, bucket, WriteOnlyPolicy(bucket, fmt.Sprintf("%q", ak)))
	ctx := context.Background()
	s := open(t, Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket, PathStyle: true, AccessKeyID: ak, SecretAccessKey: sk})
	if err := s.Put(ctx, "db/a.dump", bytes.NewReader([]byte("a"))); err != nil {
		t.Fatalf("Put with write-only credentials: %v", err)
	}
	err := s.Delete(ctx, "db/a.dump")
	var locked *storage.LockedError
	if !errors.Is(err, storage.ErrDeleteRefused) || errors.As(err, &locked) {
		t.Fatalf("Delete with write-only credentials = %v, want ErrDeleteRefused (not a lock)", err)
	}
	if _, err := s.Stat(ctx, "db/a.dump"); err != nil {
		t.Fatalf("the object is gone after a refused delete: %v", err)
	}
	if strings.Contains(err.Error(), sk) {
		t.Fatal("the secret is in the error")
	}
}

func readAll(ctx context.Context, s *S3, name string) ([]byte, error) {
	rc, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(rc)
	return b.Bytes(), err
}
