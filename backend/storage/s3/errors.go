package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Retries: network errors, 5xx and throttling are retried (the SDK's
// standard rules) up to retryAttempts times in all, after a jittered backoff
// from retryBase doubling up to retryMax; throttling starts at a second.
var (
	retryAttempts = 4
	retryBase     = 200 * time.Millisecond
	retryMax      = 5 * time.Second
)

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryAttempts
		o.Backoff = backoff{retry.IsErrorThrottles(o.Throttles)}
	})
}

type backoff struct{ throttle retry.IsErrorThrottle }

func (b backoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	d := retryBase
	if b.throttle.IsErrorThrottle(err) == aws.TrueTernary {
		d = time.Second
	}
	d <<= min(attempt-1, 10)
	return time.Duration(rand.Int64N(int64(min(d, retryMax)) + 1)), nil
}

// explain turns an error of an operation (what: "upload db/x to") into what
// the user should check.
func (s *S3) explain(err error, what string) error {
	if err == nil {
		return nil
	}
	why := s.why(err)
	if errors.Is(why, storage.ErrNotFound) {
		return fmt.Errorf("cannot %s %s: %w", what, s, storage.ErrNotFound)
	}
	if why == nil {
		return fmt.Errorf("cannot %s %s: %w", what, s, err)
	}
	return fmt.Errorf("cannot %s %s: %v (%w)", what, s, why, err)
}

// why explains err, or returns nil when it has nothing to add.
func (s *S3) why(err error) error {
	var (
		api      smithy.APIError
		resp     *awshttp.ResponseError
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		netErr   net.Error
	)
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.As(err, &api):
		return s.whyAPI(api.ErrorCode(), status, resp)
	case status == 301 || status == 307:
		return s.whyAPI("PermanentRedirect", status, resp)
	case status == 403:
		return s.whyAPI("Forbidden", status, resp)
	case errors.As(err, &dns):
		return fmt.Errorf("the host name %s is unknown: check the endpoint address, and the network connection", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("nothing answers at the endpoint (connection refused): check its address and port, and that the server is running")
	case errors.As(err, &unknown), errors.As(err, &invalid):
		return errors.New("the server's TLS certificate is not trusted (self-signed, expired or from an unknown authority): install its certificate authority on this computer, or fix the certificate")
	case errors.As(err, &hostname):
		return errors.New("the server's TLS certificate is for another host name: check the endpoint address (for a bucket name with dots, try path-style addressing)")
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return errors.New("the server does not speak TLS: if it really has no encryption, write the endpoint with http://")
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("the connection to the server was lost: check the network, and that the server is running")
	case errors.As(err, &netErr) && netErr.Timeout():
		return errors.New("the server did not answer in time: check the network, and that the server is running")
	case errors.As(err, new(*net.OpError)):
		return errors.New("cannot reach the server: check the endpoint address, and the network connection")
	}
	return nil
}

// whyAPI explains an error the server answered.
func (s *S3) whyAPI(code string, status int, resp *awshttp.ResponseError) error {
	switch code {
	case "NoSuchKey", "NotFound":
		return storage.ErrNotFound
	case "NoSuchBucket":
		return errors.New("the bucket does not exist: check the bucket name and the endpoint, or create the bucket")
	case "SignatureDoesNotMatch":
		return errors.New("the secret access key is wrong (the server rejected the request's signature): check the secret access key that goes with the access key ID")
	case "InvalidAccessKeyId", "XAdminUserNotFound":
		return errors.New("the server does not know the access key ID: check the access key ID, which may have been deleted or disabled")
	case "ExpiredToken", "TokenRefreshRequired", "InvalidToken":
		return errors.New("the session token has expired or is invalid: enter fresh temporary credentials, or a permanent access key")
	case "RequestTimeTooSkewed":
		return errors.New("the clock of this computer is wrong, so the server refuses its requests: set the date and time automatically")
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return errors.New("access denied: the access key may not do this in the bucket (it needs to list, read, write and delete objects, and abort multipart uploads)")
	case "Forbidden": // a HEAD's answer, without details
		return errors.New("access denied: check the secret access key, and that the access key may read objects in the bucket")
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IncorrectEndpoint", "MovedPermanently":
		if resp != nil && resp.Response != nil {
			if r := resp.Response.Header.Get("X-Amz-Bucket-Region"); r != "" && r != s.cfg.region() {
				return fmt.Errorf("the bucket is in region %s, not %s: set the region to %s", r, s.cfg.region(), r)
			}
		}
		return fmt.Errorf("the bucket is in another region than %s, or the endpoint is wrong: check the region and the endpoint", s.cfg.region())
	case "InvalidStorageClass":
		return fmt.Errorf("the server does not offer the storage class %s: choose another one", s.cfg.StorageClass)
	case "InvalidObjectState":
		return fmt.Errorf("the object is archived (storage class %s): restore it in the S3 console before reading it", s.cfg.StorageClass)
	case "EntityTooLarge":
		return errors.New("the object is larger than the server accepts")
	case "QuotaExceeded", "XMinioStorageFull", "StorageFull":
		return errors.New("the storage is full or its quota used up: free some space, or choose another storage")
	}
	return nil
}
