package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

// Azure Blob Storage through the command line, against Azurite: a wrong key
// and a missing container are refused at `storage add` with what to do; a
// backup goes to a container with the account key, is listed, verified and
// restored; a second storage with a SAS token that may not delete is
// refused (the test deletes); no key or SAS shows in any output, and none is
// in PgSafe's files in plaintext.
func TestAzureStorage(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-4242'; GRANT SELECT ON items TO reader;`)
	az := testenv.Azurite(t)
	az.CreateContainer(t, "backups")
	home := newMachine(t)

	cred, err := container.NewSharedKeyCredential(az.Account, az.Key)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.ContainerPermissions{Read: true, Add: true, Create: true, Write: true, List: true}).String(),
		ContainerName: "backups"}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	noDeleteSAS := q.Encode()
	secrets := []string{az.Key, q.Signature(), p.Password, "reader-pw-4242"}

	run := func(want int, stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out+errOut, s) {
				t.Fatalf("pgsafe %s printed a secret:\n%s%s", strings.Join(args, " "), out, errOut)
			}
		}
		return out, errOut
	}
	add := []string{"storage", "add", "azure", "--name", "cloud", "--account", az.Account, "--endpoint", az.Endpoint,
		"--container", "backups", "--prefix", "team-a"}

	run(0, "", "key", "init")
	if _, errOut := run(1, "AAAA"+az.Key[4:]+"\n", append(add, "--secret-stdin")...); !strings.Contains(errOut, "the access key is wrong") {
		t.Fatalf("a wrong key: %s", errOut)
	}
	missing := append([]string{}, add...)
	missing[10] = "nope"
	if _, errOut := run(1, az.Key+"\n", append(missing, "--secret-stdin")...); !strings.Contains(errOut, "the container nope does not exist") {
		t.Fatalf("a missing container: %s", errOut)
	}
	run(0, az.Key+"\n", append(add, "--secret-stdin")...)
	_, errOut := run(1, noDeleteSAS+"\n", "storage", "add", "azure", "--name", "nodelete", "--account", az.Account,
		"--endpoint", az.Endpoint, "--container", "backups", "--sas-stdin")
	if !strings.Contains(errOut, "test delete") || !strings.Contains(errOut, "the SAS token does not allow this") {
		t.Fatalf("a SAS without delete permission: %s", errOut)
	}
	if out, _ := run(0, "", "storage", "list"); !strings.Contains(out, "azure://"+az.Account+"/backups/team-a at "+az.Endpoint) {
		t.Fatalf("storage list: %s", out)
	}

	run(0, "", "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-4242"), "--storage", "cloud")
	out, _ := run(0, "", "backup", "shop", "--json")
	var b struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.Status != "succeeded" {
		t.Fatalf("backup: %s %v", out, err)
	}
	if out, _ := run(0, "", "backups", "--storage", "cloud"); !strings.Contains(out, b.ID) {
		t.Fatalf("backups --storage cloud: %s", out)
	}
	if out, _ := run(0, "", "verify", b.ID, "--storage", "cloud"); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify: %s", out)
	}
	run(0, "", "restore", "latest", "--storage", "cloud", "--to", p.URL("restored"))
	var n int
	if err := p.Conn(t, "restored").QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n); err != nil || n != 5000 {
		t.Fatalf("restored items: %d (%v), want 5000", n, err)
	}
	// The backup's blobs are under the folder, committed, none left staged;
	// beside them only the probe of the SAS that could not delete it.
	pager := az.Client(t).ServiceClient().NewContainerClient("backups").NewListBlobsFlatPager(
		&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{UncommittedBlobs: true}})
	blobs := 0
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			if strings.HasPrefix(*it.Name, ".pgsafe-probe-") {
				continue
			}
			if !strings.HasPrefix(*it.Name, "team-a/") || *it.Properties.ContentLength == 0 {
				t.Errorf("unexpected blob %s (%d bytes)", *it.Name, *it.Properties.ContentLength)
			}
			blobs++
		}
	}
	if blobs != 3 {
		t.Fatalf("%d blobs in the folder; want the backup, its manifest and the globals", blobs)
	}

	// The key is sealed: no file of PgSafe's holds it in plaintext.
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), az.Key) || strings.Contains(string(raw), q.Signature()) {
			t.Errorf("%s holds a secret in plaintext", path)
		}
		return nil
	})
}
