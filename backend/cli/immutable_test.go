package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// TestLockedStorageRoundTrip: `storage add s3 --object-lock-days` is refused
// on a bucket without Object Lock and accepted on one with it; a backup to it
// verifies and restores; its objects carry the lock, the server refuses to
// delete them, and retention keeps them (no backup fails).
func TestLockedStorageRoundTrip(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g`)
	s3srv := testenv.S3(t, testenv.S3Versioning())
	s3srv.CreateBucket(t, "plain")
	s3srv.CreateLockedBucket(t, "vault")
	newMachine(t)
	var stdout string
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if strings.Contains(out+errOut, s3srv.SecretKey) {
			t.Fatalf("pgsafe %s printed the secret key", strings.Join(args, " "))
		}
		stdout = out
		return out + errOut
	}
	add := func(bucket string) []string {
		return []string{"storage", "add", "s3", "--name", "vault", "--endpoint", s3srv.Endpoint, "--bucket", bucket, "--path-style",
			"--access-key", s3srv.AccessKey, "--secret-stdin", "--object-lock-days", "3", "--object-lock-mode", "compliance"}
	}
	run(0, "", "key", "init")
	if out := run(1, s3srv.SecretKey+"\n", add("plain")...); !strings.Contains(out, "does not have Object Lock enabled") {
		t.Fatalf("storage add on a bucket without Object Lock: %s", out)
	}
	if out := run(0, s3srv.SecretKey+"\n", add("vault")...); !strings.Contains(out, "kept 3 days (compliance mode)") {
		t.Fatalf("storage add: %s", out)
	}
	run(0, "", "db", "add", "--name", "shop", "--url", p.URL("shop"), "--storage", "vault", "--allow-write-access")
	run(0, "", "retention", "set", "shop", "--keep-last", "1")
	var first struct{ ID, Status string }
	for i := range 2 {
		var b struct{ ID, Status, Error string }
		run(0, "", "backup", "shop", "--json")
		if err := json.Unmarshal([]byte(stdout), &b); err != nil || b.Status != "succeeded" || b.Error != "" {
			t.Fatalf("backup %d: %+v %v", i, b, err)
		}
		if i == 0 {
			first.ID = b.ID
		}
	}
	if out := run(0, "", "verify", first.ID); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify the first backup, which retention kept for its lock: %s", out)
	}
	run(0, "", "restore", first.ID, "--db", "shop", "--to", p.URL("restored"))
	var n int
	if err := p.Conn(t, "restored").QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 5000 {
		t.Fatalf("restored %d rows (%v)", n, err)
	}
	// Every object in the bucket is locked; the server refuses deleting any.
	ctx := context.Background()
	raw := s3srv.NewClient()
	vs, err := raw.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("vault")})
	if err != nil || len(vs.Versions) < 5 {
		t.Fatalf("versions in the bucket: %d (%v)", len(vs.Versions), err)
	}
	for _, v := range vs.Versions {
		_, err := raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("vault"), Key: v.Key, VersionId: v.VersionId})
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("deleting %s before its date: %v, want AccessDenied", aws.ToString(v.Key), err)
		}
	}
}
