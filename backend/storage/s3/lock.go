package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Object Lock modes (Config.ObjectLockMode).
const (
	LockGovernance = "governance" // the default: an account allowed to bypass governance retention can still delete
	LockCompliance = "compliance" // no one, not even the account's root user, can delete or shorten it
)

// MaxLockDays bounds ObjectLockDays (S3 allows up to 100 years).
const MaxLockDays = 36500

func (c Config) checkLock() error {
	switch {
	case c.ObjectLockDays < 0 || c.ObjectLockDays > MaxLockDays:
		return fmt.Errorf("the Object Lock days of %s must be between 0 (no lock) and %d", c, MaxLockDays)
	case c.ObjectLockDays > 0 && c.ObjectLockMode != "" && c.ObjectLockMode != LockGovernance && c.ObjectLockMode != LockCompliance:
		return fmt.Errorf("unknown Object Lock mode %q for %s: choose governance or compliance", c.ObjectLockMode, c)
	}
	return nil
}

// lockMode is the mode sent with each upload ("" without a lock).
func (c Config) lockMode() types.ObjectLockMode {
	switch {
	case c.ObjectLockDays <= 0:
		return ""
	case c.ObjectLockMode == LockCompliance:
		return types.ObjectLockModeCompliance
	}
	return types.ObjectLockModeGovernance
}

// lockUntil is the retain-until date of an object uploaded at now (nil
// without a lock). Whole seconds, as S3 keeps them.
func (c Config) lockUntil(now time.Time) *time.Time {
	if c.ObjectLockDays <= 0 {
		return nil
	}
	return aws.Time(now.UTC().Add(time.Duration(c.ObjectLockDays) * 24 * time.Hour).Truncate(time.Second))
}

// LockDays is how many days each object is locked from its upload (0: no
// Object Lock).
func (s *S3) LockDays() int { return s.cfg.ObjectLockDays }

// CheckObjectLock makes sure the bucket has Object Lock enabled, which a
// storage with ObjectLockDays needs: without it the server refuses every
// locked upload. It is checked when the storage is added.
func (s *S3) CheckObjectLock(ctx context.Context) error {
	out, err := s.client.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: &s.cfg.Bucket})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "ObjectLockConfigurationNotFoundError" || strings.Contains(api.ErrorCode(), "ObjectLockConfiguration")) ||
		err == nil && (out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled) {
		return fmt.Errorf("the bucket %s does not have Object Lock enabled, so its backups could be deleted: "+
			"create a bucket with Object Lock turned on (it can only be chosen when a bucket is created), or add this storage without a lock", s.cfg.Bucket)
	}
	if err != nil {
		return s.explain(err, "read the Object Lock settings of")
	}
	return nil
}

// WriteOnlyPolicy is a bucket policy that lets principal (a JSON value:
// "arn:aws:iam::123456789012:user/pgsafe", or a quoted access key for
// self-hosted servers) list, read and write bucket's objects but not delete
// them: the "write-only credentials" pattern of docs/STORAGE.md.
func WriteOnlyPolicy(bucket, principal string) string {
	return `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": [` + principal + `]},
     "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketObjectLockConfiguration"],
     "Resource": ["arn:aws:s3:::` + bucket + `"]},
    {"Effect": "Allow", "Principal": {"AWS": [` + principal + `]},
     "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObjectRetention", "s3:GetObjectRetention"],
     "Resource": ["arn:aws:s3:::` + bucket + `/*"]},
    {"Effect": "Deny", "Principal": {"AWS": [` + principal + `]},
     "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"],
     "Resource": ["arn:aws:s3:::` + bucket + `", "arn:aws:s3:::` + bucket + `/*"]}
  ]
}`
}
