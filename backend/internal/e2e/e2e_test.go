//go:build e2e

// Package e2e runs the browser end-to-end tests (frontend/e2e) against real
// parts the Go harness starts: a PostgreSQL cluster and a private Secret
// Service keychain. Run with `make test-e2e` (go test -tags e2e): it needs
// build/bin/pgsafe-dev and frontend/dist.
package e2e

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/internal/testenv/fakegoogle"
)

func TestBrowser(t *testing.T) {
	root := testenv.RepoRoot(t)
	pg := testenv.Postgres(t)
	pg.CreateDB(t, "shop")
	pg.Exec(t, "shop", `CREATE TABLE customers (id int PRIMARY KEY, name text);
		CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers, total numeric);
		CREATE ROLE reader LOGIN PASSWORD 'e2e-reader-pw-4411';
		GRANT SELECT ON customers, orders TO reader;
		INSERT INTO customers SELECT g, 'Kundin ' || g FROM generate_series(1, 120) g;
		INSERT INTO orders SELECT g, 1 + g % 120, g * 1.5 FROM generate_series(1, 700) g;`)
	testenv.Keychain(t) // the app creates its master key here on first start
	admin, _ := url.Parse(pg.URL("shop"))
	s3 := testenv.S3(t, testenv.S3Versioning())
	s3.CreateBucket(t, "e2e-backups")
	s3.CreateLockedBucket(t, "e2e-locked") // lock.test.mjs
	backupDir := t.TempDir()
	dav := testenv.WebDAV(t)
	google := fakegoogle.Start(t) // no real Google here: gdrive.test.mjs signs in to this
	// nor Dropbox or Microsoft: clouddrives.test.mjs signs in to these; the
	// OneDrive client has a secret, which its token endpoint requires.
	dropbox := testenv.Dropbox(t)
	onedrive := testenv.OneDrive(t)
	onedrive.OAuth.ClientSecret = "od-e2e-secret-5a1c9e7b"
	az := testenv.Azurite(t)
	az.CreateContainer(t, "e2e-azure")

	cmd := exec.Command("bash", filepath.Join(root, "scripts/e2e.sh"))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"E2E_KEEP_BUS=1", // the keychain's session bus, not a new one
		"E2E_PG_HOST="+pg.Host, "E2E_PG_PORT="+strconv.Itoa(pg.Port), "E2E_PG_DB=shop",
		"E2E_PG_READER=reader", "E2E_PG_READER_PASSWORD=e2e-reader-pw-4411",
		"E2E_PG_ADMIN_URL="+admin.String(),
		"E2E_BACKUP_DIR="+backupDir,
		"E2E_S3_ENDPOINT="+s3.Endpoint, "E2E_S3_BUCKET=e2e-backups", "E2E_S3_LOCKED_BUCKET=e2e-locked",
		"E2E_S3_ACCESS_KEY="+s3.AccessKey, "E2E_S3_SECRET_KEY="+s3.SecretKey,
		"E2E_WEBDAV_URL="+dav.URL, "E2E_WEBDAV_USER="+dav.User, "E2E_WEBDAV_PASSWORD="+dav.Password, "E2E_WEBDAV_DIR="+dav.Root,
		"E2E_GOOGLE_URL="+google.URL, "E2E_GOOGLE_CLIENT_ID="+google.ClientID,
		"E2E_DROPBOX_URL="+dropbox.URL, "E2E_DROPBOX_CLIENT_ID="+dropbox.OAuth.ClientID,
		"E2E_ONEDRIVE_URL="+onedrive.URL, "E2E_ONEDRIVE_CLIENT_ID="+onedrive.OAuth.ClientID,
		"E2E_ONEDRIVE_CLIENT_SECRET="+onedrive.OAuth.ClientSecret,
		"E2E_AZURE_ENDPOINT="+az.Endpoint, "E2E_AZURE_ACCOUNT="+az.Account, "E2E_AZURE_KEY="+az.Key,
		"E2E_AZURE_CONTAINER=e2e-azure")
	if name, _, _, ok := testenv.ServerAccount(t); ok {
		// As root, the app's throwaway drill servers run as this account
		// (PostgreSQL refuses root).
		cmd.Env = append(cmd.Env, "PGSAFE_DRILL_USER="+name)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
	// The restore the browser ran put the same rows into a new database
	// (when backups.test.mjs ran: E2E_ONLY may name another file).
	if only := os.Getenv("E2E_ONLY"); only != "" && only != "backups" {
		return
	}
	var customers, orders int
	conn := pg.Conn(t, "shop_from_ui")
	if err := conn.QueryRow(t.Context(), "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)").Scan(&customers, &orders); err != nil {
		t.Fatalf("the database restored through the UI: %v", err)
	}
	if customers != 120 || orders != 700 {
		t.Fatalf("restored through the UI: %d customers, %d orders; want 120 and 700", customers, orders)
	}
}
