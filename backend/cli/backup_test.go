package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

func TestBackupVerifyRestoreCommands(t *testing.T) {
	p := testenv.Postgres(t)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 40000) g;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-3131'; GRANT SELECT ON items TO reader;
		CREATE ROLE shop_owner NOLOGIN; ALTER TABLE items OWNER TO shop_owner;
		CREATE ROLE restorer LOGIN CREATEDB PASSWORD 'restorer-pw-3131';`)
	newMachine(t)
	folder := t.TempDir()
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, "", args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if strings.Contains(out+errOut, "reader-pw-3131") || strings.Contains(out+errOut, p.Password) {
			t.Fatalf("pgsafe %s printed a password", strings.Join(args, " "))
		}
		return out + errOut
	}
	run(0, "key", "init")
	run(0, "storage", "add", "local", "--name", "nas", "--path", folder)
	run(0, "storage", "test", "nas")
	run(0, "db", "add", "--name", "shop", "--url", roleURL(p, "shop", "reader", "reader-pw-3131"), "--storage", "nas")

	var b struct {
		ID, Status string
		Storages   []int64
		StoredSize int64 `json:"stored_size"`
	}
	run(0, "backup", "shop") // progress on stderr, the result on stdout
	code, out, _ := runIn(t, "", "backup", "shop", "--json")
	if code != 0 {
		t.Fatalf("backup --json: exit %d", code)
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.Status != "succeeded" || len(b.Storages) != 1 || b.StoredSize == 0 {
		t.Fatalf("backup --json: %v\n%s", err, out)
	}
	if out := run(0, "backups", "shop"); !strings.Contains(out, b.ID) || !strings.Contains(out, "succeeded") {
		t.Fatalf("backups: %s", out)
	}
	if out := run(0, "verify", "latest", "--db", "shop"); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify: %s", out)
	}
	if out := run(0, "verify", b.ID, "--drill-url", p.URL("postgres")); !strings.Contains(out, "drill OK") {
		t.Fatalf("drill: %s", out)
	}
	run(0, "restore", "latest", "--db", "shop", "--to", p.URL("shop_copy"))
	var n int
	if err := p.Conn(t, "shop_copy").QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n); err != nil || n != 40000 {
		t.Fatalf("restored %d items (%v)", n, err)
	}
	if out := run(1, "restore", "latest", "--db", "shop", "--to", p.URL("shop_copy")); !strings.Contains(out, "already exists") {
		t.Fatalf("restore over an existing database without --replace: %s", out)
	}
	// Owners: kept by a superuser, dropped with --no-owner; a role that
	// cannot set them is stopped before anything is written, told why and
	// which flags go on.
	owner := func(db string) string {
		t.Helper()
		var o string
		if err := p.Conn(t, db).QueryRow(t.Context(), "SELECT tableowner FROM pg_tables WHERE tablename = 'items'").Scan(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := owner("shop_copy"); o != "shop_owner" {
		t.Errorf("restored as a superuser, items belongs to %s, want shop_owner", o)
	}
	run(0, "restore", "latest", "--db", "shop", "--to", p.URL("shop_no_owner"), "--no-owner")
	if o := owner("shop_no_owner"); o != p.User {
		t.Errorf("restored with --no-owner, items belongs to %s, want %s", o, p.User)
	}
	if out := run(1, "restore", "latest", "--db", "shop", "--to", roleURL(p, "shop_by_restorer", "restorer", "restorer-pw-3131")); !strings.Contains(out, "the restoring role restorer is not a superuser nor a member of shop_owner") ||
		!strings.Contains(out, "--no-owner --no-privileges") || !strings.Contains(out, "--role-map OLD=NEW") {
		t.Errorf("restore by a role that is not a superuser: %s", out)
	}
	run(0, "restore", "latest", "--db", "shop", "--to", roleURL(p, "shop_by_restorer", "restorer", "restorer-pw-3131"), "--no-owner")
	if o := owner("shop_by_restorer"); o != "restorer" {
		t.Errorf("restored by restorer, items belongs to %s", o)
	}

	// A second, empty cluster lacks the roles: named, then created from the
	// roles saved with the backup, or mapped.
	p2 := testenv.Postgres(t)
	if out := run(1, "restore", "latest", "--db", "shop", "--to", p2.URL("shop")); !strings.Contains(out, "2 roles the backup needs are missing on the target server: reader, shop_owner") ||
		!strings.Contains(out, "--create-roles") {
		t.Errorf("restore into a cluster without the roles: %s", out)
	}
	if out := run(0, "restore", "latest", "--db", "shop", "--to", p2.URL("shop"), "--create-roles"); !strings.Contains(out, "created roles from the ones saved with the backup: reader, shop_owner") {
		t.Errorf("restore --create-roles: %s", out)
	}
	var owner2, login string
	if err := p2.Conn(t, "shop").QueryRow(t.Context(), "SELECT tableowner, (SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'reader') FROM pg_tables WHERE tablename = 'items'").Scan(&owner2, &login); err != nil || owner2 != "shop_owner" || login != "false" {
		t.Errorf("restored with --create-roles: items belongs to %s, reader can log in: %s (%v)", owner2, login, err)
	}
	p2.Exec(t, "postgres", "CREATE ROLE shop_admin NOLOGIN")
	run(0, "restore", "latest", "--db", "shop", "--to", p2.URL("shop_mapped"), "--role-map", "shop_owner=shop_admin")
	if err := p2.Conn(t, "shop_mapped").QueryRow(t.Context(), "SELECT tableowner FROM pg_tables WHERE tablename = 'items'").Scan(&owner2); err != nil || owner2 != "shop_admin" {
		t.Errorf("restored with --role-map: items belongs to %s (%v)", owner2, err)
	}

	// Damage the stored file: verify finds it and exits 5.
	files, _ := filepath.Glob(filepath.Join(folder, "*", b.ID+".pgsafe"))
	if len(files) != 1 {
		t.Fatalf("backup files in the folder: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 1
	os.WriteFile(files[0], data, 0o600)
	if out := run(exitVerifyFailed, "verify", "latest", "--db", "shop"); !strings.Contains(out, "does not authenticate") {
		t.Fatalf("verify of a damaged backup: %s", out)
	}
}
