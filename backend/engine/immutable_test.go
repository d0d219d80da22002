package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage/s3"
	"github.com/pgsafe/pgsafe/backend/store"
)

// keptShop adds database shop (a small table) sending its backups to the
// storage named st only, keeping the last backup.
func keptShop(t *testing.T, e *Engine, st string) {
	t.Helper()
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 1000) g`)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", URL: srv.URL("shop"), StorageNames: []string{st}}, AddOptions{AllowWriteAccess: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetRetention(ctx, "shop", store.RetentionPolicy{KeepLast: 1}); err != nil {
		t.Fatal(err)
	}
}

// backupThrice makes three backups, each of which must succeed without a
// warning, and returns them oldest first.
func backupThrice(t *testing.T, e *Engine) []*store.Backup {
	t.Helper()
	var out []*store.Backup
	for range 3 {
		b, err := e.BackupNow(context.Background(), "shop", store.OriginManual, nil)
		if err != nil {
			t.Fatalf("a backup failed because retention could not delete: %v", err)
		}
		if b.Status != store.StatusSucceeded || b.Error != "" {
			t.Fatalf("backup %s: %q", b.Status, b.Error)
		}
		out = append(out, b)
	}
	return out
}

// keptCopies checks that every backup but the newest is still written on
// the storage and marked with kept, that the bucket still holds their
// objects, and that the activity log said so once per backup.
func keptCopies(t *testing.T, e *Engine, audit *memAuditor, raw *awss3.Client, bucket string, bs []*store.Backup, kept func(store.Backup) string) {
	t.Helper()
	ctx := context.Background()
	for _, b := range bs[:len(bs)-1] {
		got, err := e.store.Backup(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		cp := got.Copies[0]
		if cp.Status != store.CopyWritten || cp.Kept != kept(got) {
			t.Errorf("backup %s's copy: %s, kept %q; want written, kept %q", b.ID, cp.Status, cp.Kept, kept(got))
		}
		if _, err := raw.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(cp.Object)}); err != nil {
			t.Errorf("backup %s's object is gone from the bucket: %v", b.ID, err)
		}
	}
	var keptEvents []string
	for _, ev := range audit.events {
		if ev.Action == "backup.kept" {
			keptEvents = append(keptEvents, ev.Fields["backup_id"]+" "+ev.Fields["kept"])
		}
		if ev.Action == "backup.deleted" || ev.Outcome == "failed" {
			t.Errorf("audit: %s:%s %v", ev.Action, ev.Outcome, ev.Fields)
		}
	}
	// Backup 1 is kept after backup 2 and again after backup 3: said once.
	if len(keptEvents) != len(bs)-1 {
		t.Errorf("backup.kept recorded %d times, want once per kept backup (%d): %q", len(keptEvents), len(bs)-1, keptEvents)
	}
}

// TestRetentionKeepsWhatTheStorageLocks: a storage with S3 Object Lock is
// refused on a bucket without it, accepted on one with it; retention then
// keeps the backups whose lock has not ended ("kept until DATE: the
// storage's lock"), without failing any backup, and says so once each.
func TestRetentionKeepsWhatTheStorageLocks(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	s3srv := testenv.S3(t, testenv.S3Versioning())
	s3srv.CreateBucket(t, "plain")
	s3srv.CreateLockedBucket(t, "locked")
	vault := func(bucket string) store.StorageConfig {
		return store.StorageConfig{Name: "vault", Kind: store.StorageS3, S3: &store.S3Storage{Endpoint: s3srv.Endpoint, Bucket: bucket,
			PathStyle: true, AccessKeyID: s3srv.AccessKey, SecretAccessKey: store.NewSecret(s3srv.SecretKey), ObjectLockDays: 2, ObjectLockMode: "compliance"}}
	}
	if _, err := e.AddStorage(ctx, vault("plain")); err == nil || !strings.Contains(err.Error(), "does not have Object Lock enabled") {
		t.Fatalf("adding a locked storage on a bucket without Object Lock: %v", err)
	}
	if _, err := e.AddStorage(ctx, vault("locked")); err != nil {
		t.Fatalf("adding a locked storage on a bucket with Object Lock: %v", err)
	}
	keptShop(t, e, "vault")
	bs := backupThrice(t, e)
	keptCopies(t, e, audit, s3srv.NewClient(), "locked", bs, func(b store.Backup) string {
		return KeptLocked(b.FinishedAt.Add(48 * 60 * 60 * 1e9))
	})
	// The date is the storage's lock of 2 days (compliance: the server refuses).
	head, err := s3srv.NewClient().HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String(bs[0].Copies[0].Object)})
	if err != nil || head.ObjectLockMode != "COMPLIANCE" || aws.ToTime(head.ObjectLockRetainUntilDate).Sub(bs[0].StartedAt) < 47*60*60*1e9 {
		t.Fatalf("the backup's object: mode %q until %v (%v)", head.ObjectLockMode, aws.ToTime(head.ObjectLockRetainUntilDate), err)
	}
	noSecretIn(t, audit, s3srv.SecretKey)
}

// TestRetentionWithWriteOnlyCredentials: an access key whose policy allows
// writing but denies deleting (s3.WriteOnlyPolicy) can be added; retention
// keeps what it cannot delete ("kept: the storage refuses deletes"), says so
// once, and no backup fails.
func TestRetentionWithWriteOnlyCredentials(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	s3srv := testenv.S3(t, testenv.S3Users())
	s3srv.CreateBucket(t, "backups")
	ak, sk := s3srv.CreateUser(t)
	s3srv.SetBucketPolicy(t, "backups", s3.WriteOnlyPolicy("backups", fmt.Sprintf("%q", ak)))
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "drop", Kind: store.StorageS3, S3: &store.S3Storage{Endpoint: s3srv.Endpoint,
		Bucket: "backups", PathStyle: true, AccessKeyID: ak, SecretAccessKey: store.NewSecret(sk)}}); err != nil {
		t.Fatalf("adding a storage with write-only credentials: %v", err)
	}
	keptShop(t, e, "drop")
	bs := backupThrice(t, e)
	keptCopies(t, e, audit, s3srv.NewClient(), "backups", bs, func(store.Backup) string { return KeptRefused })
	noSecretIn(t, audit, sk)
}

func noSecretIn(t *testing.T, audit *memAuditor, secret string) {
	t.Helper()
	for _, ev := range audit.events {
		if strings.Contains(fmt.Sprint(ev), secret) {
			t.Fatalf("the secret key is in the audit event %s", ev.Action)
		}
	}
}
