package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// credEngine opens an engine with the real audit log and its log in a
// buffer, to scan them for secrets.
func credEngine(t *testing.T) (e *Engine, home string, logs *bytes.Buffer) {
	t.Helper()
	testenv.Keychain(t)
	home = t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	logs = &bytes.Buffer{}
	e, err := Open(context.Background(), Options{Home: home, CreateKey: true, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, home, logs
}

// privateTemp gives the engine's temporary files a folder of their own
// (call it once the test's own files are made), to scan it for secrets.
func privateTemp(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// appServer is a cluster with database "app" (orders: rows rows) and a
// read-only role reader whose password is password.
func appServer(t *testing.T, rows int, password string) *testenv.PG {
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "app")
	srv.Exec(t, "app", fmt.Sprintf(`CREATE TABLE orders (id int PRIMARY KEY);
		INSERT INTO orders SELECT generate_series(1, %d);
		CREATE ROLE reader LOGIN PASSWORD '%s'; GRANT SELECT ON orders TO reader;`, rows, password))
	return srv
}

func readerURL(srv *testenv.PG, password string) string {
	return strings.Replace(srv.URL("app"), srv.User+":"+srv.Password, "reader:"+password, 1)
}

// orderRows is the row count of orders in a backup's manifest.
func orderRows(t *testing.T, b *store.Backup) int64 {
	t.Helper()
	var m backup.Manifest
	if err := json.Unmarshal(b.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	for _, tc := range m.Tables {
		if tc.Name == "orders" {
			return tc.Rows
		}
	}
	t.Fatalf("no orders in the manifest: %+v", m.Tables)
	return 0
}

// scanForSecrets fails the test if any secret is in the files under dirs.
func scanForSecrets(t *testing.T, secrets []string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds the secret %q", path, s)
				}
			}
			return nil
		})
	}
}

// The failover: a script prints the URL of whichever server is
// current; between two backups the database moves to another server (and
// port) and the first one stops. Both backups succeed with no settings
// change, and their manifests show the two servers (their row counts).
// What the command printed, and the command line, are nowhere on disk, in
// the log or in the audit log.
func TestCredentialsCommandFailover(t *testing.T) {
	e, home, logs := credEngine(t)
	ctx := context.Background()
	primary, standby := appServer(t, 3, "primary-pw-5k2"), appServer(t, 5, "standby-pw-7q9")
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	scripts := t.TempDir()
	current := filepath.Join(scripts, "current")
	if err := os.WriteFile(current, []byte(readerURL(primary, "primary-pw-5k2")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(scripts, "creds.sh")
	if err := os.WriteFile(creds, []byte("#!/bin/sh\ncat "+current+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The command line carries a token, as some tools' flags do: sealed.
	line := creds + " --token cmd-token-3vx8"
	tmp := privateTemp(t)

	res, err := e.AddDatabase(ctx, DatabaseInput{Name: "app", URLCommand: line, StorageNames: []string{"nas"}, CountRows: true}, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report == nil || res.Server.Major != primary.Major {
		t.Fatalf("add: %+v", res)
	}
	before, err := e.store.DatabaseCredentials(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Host != "" || before.User != "" || before.Password.IsSet() || before.URLCommand.Reveal() != line {
		t.Fatalf("stored: host %q user %q password set %v", before.Host, before.User, before.Password.IsSet())
	}
	view, _ := e.Databases(ctx)
	if len(view) != 1 || !view[0].URLCommand.IsSet() || view[0].URLCommand.HasValue() {
		t.Fatalf("the command is not withheld from Databases: %+v", view)
	}

	first, err := e.BackupNow(ctx, "app", store.OriginManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Failover: the credentials move to the standby, the primary goes away.
	if err := os.WriteFile(current, []byte(readerURL(standby, "standby-pw-7q9")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	primary.Stop(t)
	second, err := e.BackupNow(ctx, "app", store.OriginManual, nil)
	if err != nil {
		t.Fatalf("the backup after the failover: %v", err)
	}
	if a, b := orderRows(t, first), orderRows(t, second); a != 3 || b != 5 {
		t.Fatalf("orders rows: %d then %d, want 3 (primary) then 5 (standby)", a, b)
	}
	after, err := e.store.DatabaseCredentials(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(connectionOf(before), connectionOf(after)) || before.URLCommand.Reveal() != after.URLCommand.Reveal() {
		t.Fatal("the stored connection changed")
	}
	// Health checks and re-checks run the command too.
	if h, err := e.CheckHealth(ctx, "app"); err != nil || !h.OK {
		t.Fatalf("health check: %+v, %v", h, err)
	}
	if _, err := e.CheckDatabase(ctx, "app"); err != nil {
		t.Fatalf("re-check: %v", err)
	}

	var audit bytes.Buffer
	if err := e.ExportAudit(ctx, &audit, "json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(audit.String(), "database.changed") {
		t.Fatal("the failover changed the settings")
	}
	secrets := []string{"primary-pw-5k2", "standby-pw-7q9", "cmd-token-3vx8", creds}
	for _, s := range secrets {
		for what, text := range map[string]string{"the log": logs.String(), "the audit log": audit.String()} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
	scanForSecrets(t, secrets, home, tmp)
}

// A command that fails is the backup's failure, in its own words, and the
// status model's reason; what it printed and its arguments are redacted.
func TestCredentialsCommandFails(t *testing.T) {
	e, home, logs := credEngine(t)
	ctx := context.Background()
	folder := t.TempDir()
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "vault-get.sh")
	body := "#!/bin/sh\necho half-printed-pw-4m1\necho \"vault: permission denied on $2\" >&2\nexit 1\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	line := script + " kv secret/prod-db-path"
	bad := filepath.Join(t.TempDir(), "bad.sh")
	os.WriteFile(bad, []byte("#!/bin/sh\necho 'not a url garbage-9z'\n"), 0o700)
	tmp := privateTemp(t)
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "prod", URLCommand: line, StorageNames: []string{"nas"}}, AddOptions{}); err == nil ||
		!strings.HasPrefix(err.Error(), "the credentials command exited 1: vault: permission denied on [redacted]") {
		t.Fatalf("adding with a failing command: %v", err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "prod", URLCommand: line, StorageNames: []string{"nas"}}, AddOptions{NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	_, err := e.BackupNow(ctx, "prod", store.OriginManual, nil)
	if err == nil || err.Error() != "the credentials command exited 1: vault: permission denied on [redacted]" {
		t.Fatalf("backup: %v", err)
	}
	if h, err := e.CheckHealth(ctx, "prod"); err != nil || h.OK || !strings.HasPrefix(h.Error, "the credentials command exited 1") {
		t.Fatalf("health check: %+v, %v", h, err)
	}
	all, err := e.Status(ctx, "prod")
	if err != nil || len(all.Databases) != 1 {
		t.Fatal(all, err)
	}
	st := all.Databases[0]
	var found bool
	for _, r := range st.Reasons {
		if r.Code == status.CodeCredCommand {
			found = true
			if !strings.HasPrefix(r.Message, "The credentials command exited 1: vault: permission denied") {
				t.Fatalf("reason %+v", r)
			}
		}
	}
	if !found || st.State == status.Protected || st.State == status.Attention {
		t.Fatalf("status %s %+v", st.State, st.Reasons)
	}

	// A command printing something that is no connection string.
	if _, err := e.UpdateDatabase(ctx, "prod", DatabaseEdit{Connection: &DatabaseInput{URLCommand: bad}}, EditOptions{}); err == nil ||
		!strings.Contains(err.Error(), "the credentials command printed a connection string PgSafe cannot use") || strings.Contains(err.Error(), "garbage-9z") {
		t.Fatalf("garbage output: %v", err)
	}

	var audit bytes.Buffer
	if err := e.ExportAudit(ctx, &audit, "json"); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"half-printed-pw-4m1", "secret/prod-db-path", "garbage-9z"}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) || strings.Contains(audit.String(), s) {
			t.Errorf("the log or the audit log holds %q", s)
		}
	}
	scanForSecrets(t, secrets, home, tmp)
}

// A password command keeps the URL's host, user and database and gives
// the password at each connection; switching back to a typed URL removes
// the command.
func TestPasswordCommand(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := appServer(t, 2, "rotating-pw-1")
	script := filepath.Join(t.TempDir(), "pw.sh")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("rotating-pw-1\n"), 0o600)
	os.WriteFile(script, []byte("#!/bin/sh\ncat "+pwFile+"\n"), 0o700)
	url := strings.Replace(srv.URL("app"), srv.User+":"+srv.Password+"@", "reader@", 1)
	res, err := e.AddDatabase(ctx, DatabaseInput{Name: "app", URL: url, PasswordCommand: script}, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.store.DatabaseCredentials(ctx, res.ID)
	if c.Host != "127.0.0.1" || c.User != "reader" || c.Password.IsSet() || !c.PasswordCommand.IsSet() {
		t.Fatalf("stored %s@%s, password set %v", c.User, c.Host, c.Password.IsSet())
	}
	// The password rotates: the next connection reads the new one.
	srv.Exec(t, "postgres", "ALTER ROLE reader PASSWORD 'rotating-pw-2'")
	os.WriteFile(pwFile, []byte("rotating-pw-2\n"), 0o600)
	if h, err := e.CheckHealth(ctx, "app"); err != nil || !h.OK {
		t.Fatalf("after the rotation: %+v, %v", h, err)
	}
	// An edit that leaves the command empty with its flag on keeps it.
	if _, err := e.UpdateDatabase(ctx, "app", DatabaseEdit{Connection: &DatabaseInput{URL: url, UsePasswordCommand: true}}, EditOptions{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.store.DatabaseCredentials(ctx, res.ID); c.PasswordCommand.Reveal() != script {
		t.Fatal("the password command was not kept")
	}
	typed := strings.Replace(url, "reader@", "reader:rotating-pw-2@", 1)
	r, err := e.UpdateDatabase(ctx, "app", DatabaseEdit{Connection: &DatabaseInput{URL: typed}}, EditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := e.store.DatabaseCredentials(ctx, res.ID); c.PasswordCommand.IsSet() || c.Password.Reveal() != "rotating-pw-2" {
		t.Fatalf("after switching to a typed password: command set %v; changed %v", c.PasswordCommand.IsSet(), r.Changed)
	}
	if !strings.Contains(strings.Join(r.Changed, ","), "password_command") {
		t.Fatalf("changed %v", r.Changed)
	}
}

// resolve fills the connection from what the command printed, for this use
// only; a server entry's database keeps its own name.
func TestResolveKeepsAServerEntrysDatabase(t *testing.T) {
	ctx := context.Background()
	line := `echo postgres://app:pw-r3s@db.example:6543/listdb?sslmode=require`
	c, err := resolve(ctx, store.DatabaseConfig{Name: "srv", URLCommand: store.NewSecret(line)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "db.example" || c.Port != 6543 || c.DBName != "listdb" || c.User != "app" || c.Password.Reveal() != "pw-r3s" || c.SSLMode != "require" || c.URLCommand.IsSet() {
		t.Fatalf("resolved %s@%s:%d/%s sslmode %s", c.User, c.Host, c.Port, c.DBName, c.SSLMode)
	}
	child, err := resolve(ctx, store.DatabaseConfig{Name: "srv/shop", DBName: "shop", ServerEntry: 1, URLCommand: store.NewSecret(line)})
	if err != nil || child.DBName != "shop" || child.Host != "db.example" {
		t.Fatalf("a server entry's database: %s, %v", child.DBName, err)
	}
	both, err := resolve(ctx, store.DatabaseConfig{URLCommand: store.NewSecret(line), PasswordCommand: store.NewSecret("echo from-pw-command")})
	if err != nil || both.Password.Reveal() != "from-pw-command" {
		t.Fatalf("both commands: %v", err)
	}
}
