package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// loadPagila loads the Pagila schema (testenv.PagilaSchema) into db, adds rows
// to a few of its tables and a table of awkward values, and a read-only role.
func loadPagila(t *testing.T, p *testenv.PG, db string) {
	t.Helper()
	p.CreateDB(t, db)
	schema := testenv.PagilaSchema(t)
	psql := filepath.Join(pgClientDir(t, p.Major), "psql")
	cmd := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", schema)
	cmd.Env = append(os.Environ(), p.Environ()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("load Pagila into PostgreSQL %d: %v\n%s", p.Major, err, out)
	}
	p.Exec(t, db, `
		INSERT INTO actor (first_name, last_name) SELECT 'Ädam ' || g, 'Łast ' || g FROM generate_series(1, 500) g;
		INSERT INTO category (name) SELECT 'cat ' || g FROM generate_series(1, 16) g;
		INSERT INTO language (name) VALUES ('English'), ('日本語');
		CREATE TABLE odd_values (id serial PRIMARY KEY, j jsonb, b bytea, t text, ts timestamptz, n numeric);
		INSERT INTO odd_values (j, b, t, ts, n) SELECT jsonb_build_object('k', g, 'tab', E'a\tb'), decode(md5(g::text), 'hex'),
			repeat(md5(g::text), 40) || E'\n\\N', now() - g * interval '1 hour', g / 7.0 FROM generate_series(1, 20000) g;
		-- what the read-only check says to fix in Pagila:
		REVOKE CREATE ON SCHEMA public FROM PUBLIC;
		REVOKE EXECUTE ON FUNCTION rewards_report(integer, numeric) FROM PUBLIC;
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw-7777';
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
		GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO reader;`)
}

// pgClientDir is the folder of the client programs PgSafe would use for a
// server of this major.
func pgClientDir(t *testing.T, major int) string {
	in, err := pgtools.Pick(pgtools.Discover(context.Background()), major)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(in.PgDump)
}

// schemaOf is db's schema as pg_dump prints it, without comments, blank
// lines and the per-run \restrict token of newer pg_dump versions.
func schemaOf(t *testing.T, p *testenv.PG, db string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(pgClientDir(t, p.Major), "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "-d", db)
	cmd.Env = append(os.Environ(), p.Environ()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump --schema-only %s: %v", db, err)
	}
	var keep []string
	restrict := regexp.MustCompile(`^\\(un)?restrict `)
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "--") || restrict.MatchString(l) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// storedManifest is the part of `backups --storage --json` the test reads.
type storedManifest struct {
	Manifest struct {
		BackupID string `json:"backup_id"`
		Object   string `json:"object"`
		Tables   []struct {
			Schema, Name string
			Rows         int64
			Counted      bool
		} `json:"tables"`
	} `json:"manifest"`
	Error string `json:"error"`
}

// The whole path a user relies on, through the command line, against real
// servers: one backup to a folder, an S3 bucket and an SFTP server at once;
// each copy decrypted with `pgsafe decrypt` and restored with pg_restore to the
// same schema and the row counts of the manifest; a second machine with only
// the key and the S3 storage lists and restores it; retention prunes every
// storage. On PostgreSQL 15 (Debian's) and 13.
func TestRoundTripThreeStorages(t *testing.T) {
	for _, major := range []int{15, 13} {
		t.Run(fmt.Sprintf("PostgreSQL %d", major), func(t *testing.T) { roundTrip(t, major) })
	}
}

func roundTrip(t *testing.T, major int) {
	var p *testenv.PG
	if major == testenv.DebianPGMajor {
		p = testenv.Postgres(t)
	} else {
		p = testenv.Postgres(t, testenv.WithVersion(major))
	}
	loadPagila(t, p, "rental")
	s3srv := testenv.S3(t)
	s3srv.CreateBucket(t, "backups")
	sftpSrv := testenv.SFTP(t)
	home := newMachine(t)
	sshKey := filepath.Join(home, "id_ed25519")
	os.WriteFile(sshKey, sftpSrv.PrivateKey, 0o600)
	folder := t.TempDir()
	secrets := []string{p.Password, "reader-pw-7777", s3srv.SecretKey}

	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out+errOut, s) {
				t.Fatalf("pgsafe %s printed a secret", strings.Join(args, " "))
			}
		}
		return out
	}
	s3Args := []string{"storage", "add", "s3", "--name", "s3", "--endpoint", s3srv.Endpoint, "--bucket", "backups",
		"--prefix", "team-a", "--path-style", "--access-key", s3srv.AccessKey, "--secret-stdin"}

	run(0, "", "key", "init")
	run(0, "", "storage", "add", "local", "--name", "folder", "--path", folder)
	run(0, s3srv.SecretKey+"\n", s3Args...)
	hostKey := strings.TrimSpace(sftpSrv.KnownHostsLine()[strings.Index(sftpSrv.KnownHostsLine(), " ")+1:])
	sftpArgs := []string{"storage", "add", "sftp", "--name", "sftp", "--host", sftpSrv.Host, "--port", fmt.Sprint(sftpSrv.Port),
		"--user", sftpSrv.User, "--ssh-key", sshKey, "--path", "backups"}
	os.Mkdir(filepath.Join(sftpSrv.Root, "backups"), 0o777)
	os.Chmod(filepath.Join(sftpSrv.Root, "backups"), 0o777)
	if _, _, errOut := runIn(t, "", sftpArgs...); !strings.Contains(errOut, "Fingerprint: SHA256:") {
		t.Fatalf("an unknown SFTP host key must be shown, not trusted: %s", errOut)
	}
	run(0, "", append(sftpArgs, "--host-key", hostKey)...)
	run(0, "", "db", "add", "--name", "rental", "--url", roleURL(p, "rental", "reader", "reader-pw-7777"),
		"--storage", "folder", "--storage", "s3", "--storage", "sftp")

	var b struct {
		ID       string  `json:"id"`
		Status   string  `json:"status"`
		Storages []int64 `json:"storages"`
	}
	if err := json.Unmarshal([]byte(run(0, "", "backup", "rental", "--json")), &b); err != nil || b.Status != "succeeded" || len(b.Storages) != 3 {
		t.Fatalf("backup: %+v %v", b, err)
	}

	// Each storage holds a copy; each decrypts and restores on its own.
	var listed []storedManifest
	if err := json.Unmarshal([]byte(run(0, "", "backups", "--storage", "sftp", "--json")), &listed); err != nil || len(listed) != 1 || listed[0].Manifest.BackupID != b.ID {
		t.Fatalf("backups --storage sftp: %+v %v", listed, err)
	}
	m := listed[0].Manifest
	files := map[string]string{
		"folder": filepath.Join(folder, m.Object),
		"s3":     filepath.Join(s3srv.Dir, "backups", "team-a", m.Object),
		"sftp":   filepath.Join(sftpSrv.Root, "backups", m.Object),
	}
	want := schemaOf(t, p, "rental")
	pgRestore := filepath.Join(pgClientDir(t, p.Major), "pg_restore")
	for name, file := range files {
		archive := filepath.Join(t.TempDir(), "rental.dump")
		run(0, "", "decrypt", "--in", file, "--out", archive)
		target := "from_" + name
		p.CreateDB(t, target)
		cmd := exec.Command(pgRestore, "--no-owner", "--no-privileges", "--exit-on-error", "-d", target, archive)
		cmd.Env = append(os.Environ(), p.Environ()...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pg_restore of the %s copy: %v\n%s", name, err, out)
		}
		if got := schemaOf(t, p, target); got != want {
			t.Fatalf("the %s copy restores to another schema:\n%s", name, firstDiff(want, got))
		}
		conn := p.Conn(t, target)
		counted := 0
		for _, tb := range m.Tables {
			if !tb.Counted {
				t.Fatalf("%s.%s not counted", tb.Schema, tb.Name)
			}
			var n int64
			q := fmt.Sprintf(`SELECT count(*) FROM ONLY %q.%q`, tb.Schema, tb.Name)
			if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil || n != tb.Rows {
				t.Fatalf("%s copy: %s.%s has %d rows (%v), the manifest says %d", name, tb.Schema, tb.Name, n, err, tb.Rows)
			}
			if tb.Rows > 0 {
				counted++
			}
		}
		if counted < 4 {
			t.Fatalf("only %d tables with rows in the manifest: %+v", counted, m.Tables)
		}
	}

	// A new machine with the key (a kit) and the S3 storage alone.
	kit := filepath.Join(t.TempDir(), "kit.pgsafe-key")
	run(0, "correct horse battery staple\n", "key", "export", "--out", kit, "--passphrase-stdin")
	newMachine(t)
	run(0, "correct horse battery staple\n", "key", "import", kit, "--passphrase-stdin")
	run(0, s3srv.SecretKey+"\n", s3Args...)
	if out := run(0, "", "backups", "--storage", "s3"); !strings.Contains(out, b.ID) || !strings.Contains(out, "rental") {
		t.Fatalf("backups --storage s3 on a new machine: %s", out)
	}
	run(0, "", "restore", "latest", "--storage", "s3", "--to", p.URL("on_new_machine"))
	if got := schemaOf(t, p, "on_new_machine"); got != want {
		t.Fatalf("restored on a new machine to another schema:\n%s", firstDiff(want, got))
	}
	if out := run(0, "", "verify", b.ID, "--storage", "s3"); !strings.Contains(out, "verify OK") {
		t.Fatalf("verify on a new machine: %s", out)
	}

	// A third machine with the kit and a lone copy of the file (no manifest, no storage).
	lone := filepath.Join(t.TempDir(), "rental-copy.pgsafe")
	if raw, err := os.ReadFile(files["folder"]); err != nil || os.WriteFile(lone, raw, 0o600) != nil {
		t.Fatalf("copy the backup file: %v", err)
	}
	newMachine(t)
	run(0, "correct horse battery staple\n", "key", "import", kit, "--passphrase-stdin")
	run(0, "", "restore", lone, "--to", p.URL("from_lone_file"))
	if got := schemaOf(t, p, "from_lone_file"); got != want {
		t.Fatalf("restored from a lone file to another schema:\n%s", firstDiff(want, got))
	}

	// Back on the first machine: keep only the newest; the old one leaves every storage.
	t.Setenv("PGSAFE_HOME", home)
	run(0, "", "retention", "set", "rental", "--keep-last", "1")
	run(0, "", "backup", "rental")
	for name, file := range files {
		for _, f := range []string{file, strings.TrimSuffix(file, ".pgsafe") + ".manifest.pgsafe", strings.TrimSuffix(file, ".pgsafe") + ".globals.pgsafe"} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Fatalf("retention left %s in %s (%v)", filepath.Base(f), name, err)
			}
		}
	}
	if out := run(0, "", "audit", "export", "--format", "csv"); strings.Count(out, "backup.deleted") != 3 {
		t.Fatalf("the audit log has %d backup.deleted entries, want 3", strings.Count(out, "backup.deleted"))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, x, y)
		}
	}
	return "(equal)"
}
