package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

const ctr = "pgsafe-test"

func server(t *testing.T) (*testenv.AzuriteServer, Config) {
	srv := testenv.Azurite(t)
	srv.CreateContainer(t, ctr)
	return srv, Config{Endpoint: srv.Endpoint, Account: srv.Account, Container: ctr, Key: srv.Key}
}

func open(t *testing.T, cfg Config) *Azure {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// containerSAS is a SAS token for container ctr with the given permissions,
// signed with the account key, valid from a minute ago until expiry.
func containerSAS(t *testing.T, srv *testenv.AzuriteServer, perms sas.ContainerPermissions, expiry time.Time) string {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(srv.Account, srv.Key)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().Add(-time.Minute).UTC(),
		ExpiryTime: expiry.UTC(), Permissions: perms.String(), ContainerName: ctr}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return q.Encode()
}

var allPerms = sas.ContainerPermissions{Read: true, Add: true, Create: true, Write: true, Delete: true, List: true}

func TestBlockSize(t *testing.T) {
	var total int64
	for n := 1; n <= maxBlocks; n++ {
		total += blockSize(n)
	}
	if blockSize(1) != 8<<20 || blockSize(5000) != 8<<20 || blockSize(5001) != 16<<20 || blockSize(maxBlocks) > maxBlockSize {
		t.Fatalf("block sizes: %d %d %d %d", blockSize(1), blockSize(5000), blockSize(5001), blockSize(maxBlocks))
	}
	if total < 38<<40 {
		t.Fatalf("%d blocks hold only %d GiB", maxBlocks, total>>30)
	}
	if len(blockID("0123456789abcdef", 1)) != len(blockID("0123456789abcdef", maxBlocks)) {
		t.Fatal("block IDs of one blob differ in length")
	}
}

func TestConformance(t *testing.T) {
	srv, cfg := server(t)
	t.Run("account key", func(t *testing.T) { storagetest.Run(t, open(t, cfg)) })
	t.Run("SAS token, under a folder", func(t *testing.T) {
		c := cfg
		c.Key, c.SAS, c.Prefix = "", "?"+containerSAS(t, srv, allPerms, time.Now().Add(time.Hour)), "/backups/here/"
		s := open(t, c)
		storagetest.Run(t, s)
		if err := s.Put(context.Background(), "x", strings.NewReader("y")); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Client(t).ServiceClient().NewContainerClient(ctr).NewBlobClient("backups/here/x").GetProperties(context.Background(), nil); err != nil {
			t.Fatalf("the object is not the blob backups/here/x: %v", err)
		}
	})
}

// TestBlocks stores a stream of several blocks (the last one short) and
// reads it back; a stream failing after two blocks leaves no blob and no
// staged block.
func TestBlocks(t *testing.T) {
	srv, cfg := server(t)
	s := open(t, cfg)
	ctx := context.Background()
	data := make([]byte, 2*firstBlock+12345)
	rand.Read(data)
	if err := s.Put(ctx, "db/big.pgsafe", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(ctx, "db/big.pgsafe")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), wrote %d", len(got), err, len(data))
	}
	bl, err := srv.Client(t).ServiceClient().NewContainerClient(ctr).NewBlockBlobClient("db/big.pgsafe").GetBlockList(ctx, "all", nil)
	if err != nil || len(bl.CommittedBlocks) != 3 || len(bl.UncommittedBlocks) != 0 {
		t.Fatalf("block list: %d committed, %d uncommitted (%v); want 3 and 0", len(bl.CommittedBlocks), len(bl.UncommittedBlocks), err)
	}

	failing := io.MultiReader(bytes.NewReader(data[:2*firstBlock+5]), errAfter{})
	if err := s.Put(ctx, "db/failed.pgsafe", failing); err == nil || !strings.Contains(err.Error(), "reading the data to store failed") {
		t.Fatalf("Put of a failing stream: %v", err)
	}
	if _, err := s.Stat(ctx, "db/failed.pgsafe"); !storage.IsNotFound(err) {
		t.Fatalf("a failed Put left a blob: %v", err)
	}
	all, err := s.list(ctx, "", true)
	if err != nil || len(all) != 1 || all[0].Name != "db/big.pgsafe" {
		t.Fatalf("blobs, with uncommitted ones: %+v (%v); want only db/big.pgsafe", all, err)
	}
}

type errAfter struct{}

func (errAfter) Read([]byte) (int, error) { return 0, fmt.Errorf("dump failed") }

// TestErrors checks what each failure says: wrong key, missing container,
// the server gone, a SAS without delete permission, an expired SAS.
func TestErrors(t *testing.T) {
	srv, cfg := server(t)
	ctx := context.Background()
	wrongKey := make([]byte, 64)
	rand.Read(wrongKey)
	sasNoDelete := containerSAS(t, srv, sas.ContainerPermissions{Read: true, Add: true, Create: true, Write: true, List: true}, time.Now().Add(time.Hour))
	sasExpired := containerSAS(t, srv, allPerms, time.Now().Add(-time.Second))
	secrets := []string{srv.Key, base64.StdEncoding.EncodeToString(wrongKey), sigOf(sasNoDelete), sigOf(sasExpired)}

	check := func(t *testing.T, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("no error; want one saying %q", want)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), sec) {
				t.Errorf("error %q shows a secret", err)
			}
		}
	}

	t.Run("wrong key", func(t *testing.T) {
		c := cfg
		c.Key = base64.StdEncoding.EncodeToString(wrongKey)
		_, err := New(ctx, c)
		check(t, err, "the access key is wrong", "Access keys", "HTTP 403")
	})
	t.Run("key not base64", func(t *testing.T) {
		c := cfg
		c.Key = "not a key!"
		_, err := New(ctx, c)
		check(t, err, "the access key of", "is not valid")
	})
	t.Run("missing container", func(t *testing.T) {
		c := cfg
		c.Container = "nope"
		_, err := New(ctx, c)
		check(t, err, "the container nope does not exist in the storage account "+srv.Account, "create it")
	})
	t.Run("expired SAS", func(t *testing.T) {
		c := cfg
		c.Key, c.SAS = "", sasExpired
		_, err := New(ctx, c)
		check(t, err, "the SAS token expired on", "create a new SAS token", "HTTP 403")
	})
	t.Run("not a SAS", func(t *testing.T) {
		c := cfg
		c.Key, c.SAS = "", "hello"
		_, err := New(ctx, c)
		check(t, err, "the SAS token should look like sv=")
	})
	t.Run("SAS without delete", func(t *testing.T) {
		c := cfg
		c.Key, c.SAS = "", sasNoDelete
		s := open(t, c)
		if err := s.Put(ctx, "db/x", strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		check(t, s.Delete(ctx, "db/x"), "cannot delete db/x from", "the SAS token does not allow this", "delete", "HTTP 403")
	})
	t.Run("server gone", func(t *testing.T) {
		s := open(t, cfg)
		srv.Stop()
		err := s.Put(ctx, "db/y", strings.NewReader("y"))
		check(t, err, "cannot upload db/y to", "nothing answers at the endpoint")
		_, err = New(ctx, cfg)
		check(t, err, "connection refused")
	})
	t.Run("account gone", func(t *testing.T) {
		// Without an endpoint the account's address is its DNS name: a
		// deleted account's name no longer resolves.
		c := Config{Account: "pgsafe-no-such-account-" + randomName(), Container: ctr, Key: srv.Key}
		_, err := New(ctx, c)
		check(t, err, "there is no storage account named "+c.Account, "check the account name")
	})
}

func sigOf(token string) string {
	q, _ := url.ParseQuery(token)
	return q.Get("sig")
}

func randomName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// TestNoSecrets: neither the key nor the SAS token shows in any fmt verb or
// slog output of a configuration or storage, nor in the SDK's errors as this
// package passes them on.
func TestNoSecrets(t *testing.T) {
	srv, cfg := server(t)
	token := containerSAS(t, srv, allPerms, time.Now().Add(time.Hour))
	for _, c := range []Config{cfg, {Endpoint: cfg.Endpoint, Account: cfg.Account, Container: ctr, SAS: token}} {
		s := open(t, c)
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cfg", c, "storage", s.String())
		var out string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out += fmt.Sprintf(verb, c) + fmt.Sprintf(verb, &c)
		}
		out += logged.String() + s.String()
		// An error whose raw form carries the URL with the SAS.
		_, err := s.Open(context.Background(), "missing")
		out += err.Error()
		srvURL := c.Endpoint + "/" + ctr + "/missing?" + token
		out += describe(&url.Error{Op: "Get", URL: srvURL, Err: io.ErrUnexpectedEOF})
		for _, sec := range []string{srv.Key, sigOf(token)} {
			if strings.Contains(out, sec) || strings.Contains(out, url.QueryEscape(sec)) {
				t.Fatalf("a secret shows in: %s", out)
			}
		}
		if !strings.Contains(out, "Azure container "+ctr+" of account "+srv.Account) {
			t.Fatalf("the storage is not named in: %s", out)
		}
	}
}
