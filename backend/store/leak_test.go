package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgsafe/pgsafe/backend/seal"
)

// markers hands out distinctive random values and remembers which are secrets.
type markers struct {
	all     []string
	secrets []string
}

func (m *markers) new(kind string) string {
	b := make([]byte, 8)
	rand.Read(b)
	v := "mk" + kind + hex.EncodeToString(b)
	m.all = append(m.all, v)
	return v
}

func (m *markers) secret(kind string) Secret {
	v := m.new(kind)
	m.secrets = append(m.secrets, v)
	return NewSecret(v)
}

// forms are the encodings a careless store could write a value in.
func forms(v string) map[string][]byte {
	out := map[string][]byte{
		"plain": []byte(v),
		"hex":   []byte(hex.EncodeToString([]byte(v))),
		"HEX":   []byte(strings.ToUpper(hex.EncodeToString([]byte(v)))),
	}
	// Base64 at each of the three alignments, without the edge characters
	// that depend on neighbouring bytes.
	for off := 0; off < 3; off++ {
		for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			s := enc.EncodeToString(append(make([]byte, off), v...))
			s = strings.TrimRight(s, "=")
			inner := s[(off*4+2)/3+1 : len(s)-3]
			out[fmt.Sprintf("%s@%d", name, off)] = []byte(inner)
		}
	}
	return out
}

func scan(t *testing.T, what string, data []byte, values []string) {
	t.Helper()
	for _, v := range values {
		for form, b := range forms(v) {
			if bytes.Contains(data, b) {
				t.Errorf("%s contains %s (%s form)", what, v, form)
			}
		}
	}
}

func scanFiles(t *testing.T, path string, values []string, requireWAL bool) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) && (suffix == "-shm" || !requireWAL) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 && suffix == "-wal" && requireWAL {
			t.Fatal("the WAL is empty: the scan before the checkpoint proves nothing")
		}
		scan(t, FileName+suffix, data, values)
	}
}

// writeEverything stores every entity with marker values in every field a user types.
func writeEverything(t *testing.T, s *Store, m *markers) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	local, err := s.CreateStorage(ctx, StorageConfig{Name: m.new("storname"), Kind: StorageLocal, Local: &LocalStorage{Path: "/" + m.new("path")}})
	must(err)
	s3, err := s.CreateStorage(ctx, StorageConfig{Name: m.new("storname"), Kind: StorageS3, S3: &S3Storage{
		Endpoint: "https://" + m.new("endpoint"), Region: m.new("region"), Bucket: m.new("bucket"), Prefix: m.new("prefix"),
		StorageClass: m.new("class"), AccessKeyID: m.new("akid"), SecretAccessKey: m.secret("sak"), SessionToken: m.secret("token"),
	}})
	must(err)
	sftp, err := s.CreateStorage(ctx, StorageConfig{Name: m.new("storname"), Kind: StorageSFTP, SFTP: &SFTPStorage{
		Host: m.new("host"), User: m.new("user"), Password: m.secret("pw"), KeyPath: "/" + m.new("path"),
		PrivateKey: m.secret("pkey"), KeyPassphrase: m.secret("pass"), KnownHostsPath: "/" + m.new("path"),
		HostKey: "ssh-ed25519 " + m.new("hostkey"), Path: "/" + m.new("path"),
	}})
	must(err)
	db, err := s.CreateDatabase(ctx, DatabaseConfig{
		Name: m.new("dbname"), Host: m.new("host"), Port: 5432, DBName: m.new("db"), User: m.new("user"), Password: m.secret("pw"),
		SSLMode: "verify-full", SSLRootCert: "/" + m.new("path"), SSLCert: "/" + m.new("path"), SSLKey: "/" + m.new("path"),
		SSLPassword: m.secret("sslpw"),
		SSH: &SSHTunnel{Host: m.new("host"), User: m.new("user"), Password: m.secret("pw"), KeyPath: "/" + m.new("path"),
			PrivateKey: m.secret("pkey"), KeyPassphrase: m.secret("pass"), KnownHostsPath: "/" + m.new("path"), HostKey: m.new("hostkey")},
		StorageIDs: []int64{local, s3, sftp},
	})
	must(err)
	// An update with new values: the old record version sits in the WAL too.
	cfg, err := s.DatabaseCredentials(ctx, db)
	must(err)
	cfg.Host, cfg.Password = m.new("host"), m.secret("pw")
	_, err = s.UpdateDatabase(ctx, db, cfg)
	must(err)
	// A row written and deleted.
	gone, err := s.CreateDatabase(ctx, DatabaseConfig{Name: m.new("dbname"), Host: m.new("host"), DBName: m.new("db"), User: m.new("user"), Password: m.secret("pw")})
	must(err)
	must(s.DeleteDatabase(ctx, gone))

	_, err = s.CreateNotifier(ctx, NotifierConfig{Name: m.new("notname"), Kind: NotifierWebhook, Enabled: true,
		Settings: map[string]string{"method": "POST", "headers": m.new("header"), "body": m.new("template")},
		Secrets:  map[string]Secret{"url": m.secret("webhook"), "token": m.secret("token")}})
	must(err)
	_, err = s.CreateNotifier(ctx, NotifierConfig{Name: m.new("notname"), Kind: NotifierEmail, Enabled: true,
		Settings: map[string]string{"smtp_host": m.new("host"), "from": m.new("from") + "@example.com", "to": m.new("to") + "@example.com"},
		Secrets:  map[string]Secret{"password": m.secret("pw")}})
	must(err)
	_, err = s.SetSchedule(ctx, db, ScheduleConfig{Enabled: true, Kind: ScheduleCron, Cron: m.new("cron"), TimeZone: "UTC"})
	must(err)
	_, err = s.SetRetention(ctx, db, RetentionPolicy{KeepLast: 987654, KeepDays: 876543})
	must(err)
	_, id, err := NewBackupID()
	must(err)
	must(s.CreateBackup(ctx, Backup{ID: id, DatabaseID: db, Status: StatusSucceeded, Origin: OriginManual, StartedAt: time.Now(),
		FinishedAt: time.Now(), KeyID: s.KeyID().String(), BackupDetails: BackupDetails{
			DatabaseName: m.new("dbname"), Error: m.new("error"),
			Manifest: json.RawMessage(fmt.Sprintf(`{"server":%q,"tables":{%q:1}}`, m.new("server"), m.new("table"))),
		}}))
	must(s.SetBackupCopy(ctx, id, BackupCopy{StorageID: s3, Status: CopyWritten, Size: 10, Object: m.new("object"), Error: m.new("error")}))
	_, err = s.CreateRestore(ctx, RestoreRecord{Kind: RunDrill, BackupID: id, DatabaseID: db, Status: StatusFailed, StartedAt: time.Now(),
		RestoreDetails: RestoreDetails{Target: m.new("target"), Problems: []string{m.new("problem")}, Warnings: []string{m.new("warning")}, Error: m.new("error")}})
	must(err)
	_, err = s.SetSetting(ctx, "ui.drill_server", m.new("setting"))
	must(err)
	must(s.AddHealthCheck(ctx, HealthCheck{DatabaseID: db, At: time.Now(), Latency: time.Millisecond, HealthDetails: HealthDetails{Error: m.new("healtherror")}}))
}

// TestNothingUserTypedInTheFiles is the store's central promise: every value a
// user typed, secret or not, appears nowhere in the database file, its WAL or
// shared memory file, before and after the checkpoint, nor in any log line.
func TestNothingUserTypedInTheFiles(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)

	ctx := context.Background()
	s, mk := openTemp(t)
	m := &markers{}
	writeEverything(t, s, m)
	if len(m.all) < 50 || len(m.secrets) < 15 {
		t.Fatalf("only %d markers (%d secrets)", len(m.all), len(m.secrets))
	}

	// Sanity: the values are stored (the scan below looks for the right things).
	dbs, err := s.Databases(ctx)
	if err != nil || len(dbs) != 1 {
		t.Fatalf("Databases = %v, %v", dbs, err)
	}
	cred, _ := s.DatabaseCredentials(ctx, dbs[0].ID)
	if !strings.HasPrefix(cred.Password.Reveal(), "mkpw") || !strings.HasPrefix(cred.Host, "mkhost") {
		t.Fatalf("stored credentials %q / %q are not the markers", cred.Password.Reveal(), cred.Host)
	}

	// Before the checkpoint: the WAL holds every write.
	scanFiles(t, s.Path(), m.all, true)

	// Everything read back, printed and logged, with secrets in hand: no secret shows.
	var printed bytes.Buffer
	all := []any{dbs, cred}
	sts, _ := s.Storages(ctx)
	nts, _ := s.Notifiers(ctx)
	for _, st := range sts {
		c, _ := s.StorageCredentials(ctx, st.ID)
		all = append(all, st, c)
	}
	for _, n := range nts {
		c, _ := s.NotifierCredentials(ctx, n.ID)
		all = append(all, n, c)
	}
	for _, v := range all {
		fmt.Fprintf(&printed, "%v %+v %#v %s\n", v, v, v, v)
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		printed.Write(js)
		slog.Info("config", "value", v)
		slog.New(slog.NewJSONHandler(&printed, nil)).Info("config", "value", v)
	}
	if !bytes.Contains(printed.Bytes(), []byte("mkhost")) || !bytes.Contains(printed.Bytes(), []byte("[redacted]")) {
		t.Fatal("the printed configs lack their plain fields: the secret scan proves nothing")
	}
	scan(t, "printed and JSON-encoded configs", printed.Bytes(), m.secrets)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	scanFiles(t, s.Path(), m.all, false)
	// The store's own logs (migrations, warnings) name no user value at all.
	storeLogs := logs.String()
	if i := strings.Index(storeLogs, "msg=config"); i >= 0 {
		storeLogs = storeLogs[:i]
	}
	if !strings.Contains(storeLogs, "settings database") {
		t.Fatalf("no store log captured: %q", storeLogs)
	}
	scan(t, "the store's log", []byte(storeLogs), m.all)
	scan(t, "all logs", logs.Bytes(), m.secrets)

	// And the values are all there for the right key after a re-open.
	s2, err := Open(ctx, s.Path(), mk)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, err := s2.DatabaseCredentials(ctx, dbs[0].ID); err != nil || c.Password.Reveal() != cred.Password.Reveal() {
		t.Fatalf("after re-open: %v", err)
	}
}

func TestSealedBlobDoesNotOpenElsewhere(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a, _ := s.CreateDatabase(ctx, sampleDatabase("a"))
	b, _ := s.CreateDatabase(ctx, sampleDatabase("b"))
	st, _ := s.CreateStorage(ctx, StorageConfig{Name: "disk", Kind: StorageLocal, Local: &LocalStorage{Path: "/b"}})
	s.SetSetting(ctx, "ui.theme", "dark")
	s.SetSetting(ctx, "ui.lang", "fr")

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB().Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	// Row a's record moved onto row b: b no longer opens, and says where.
	exec("UPDATE databases SET sealed = (SELECT sealed FROM databases WHERE id = ?) WHERE id = ?", a, b)
	_, err := s.Database(ctx, b)
	if !errors.Is(err, seal.ErrOpen) || !strings.Contains(err.Error(), fmt.Sprintf("databases row %d", b)) {
		t.Fatalf("moved record: %v", err)
	}
	if _, err := s.Databases(ctx); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("listing with a moved record: %v", err)
	}
	if _, err := s.Database(ctx, a); err != nil {
		t.Fatalf("the original row: %v", err)
	}
	// A database record moved into the storages table, same row id.
	exec("UPDATE storages SET sealed = (SELECT sealed FROM databases WHERE id = ?) WHERE id = ?", st, st)
	if _, err := s.Storage(ctx, st); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("record moved across tables: %v", err)
	}
	// Settings swapped between keys.
	exec("UPDATE settings SET sealed = (SELECT sealed FROM settings WHERE key = 'ui.lang') WHERE key = 'ui.theme'")
	if _, err := s.Setting(ctx, "ui.theme"); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("swapped setting: %v", err)
	}
	// One flipped byte.
	var blob []byte
	s.DB().QueryRow("SELECT sealed FROM databases WHERE id = ?", a).Scan(&blob)
	blob[20] ^= 1
	exec("UPDATE databases SET sealed = ? WHERE id = ?", blob, a)
	if _, err := s.Database(ctx, a); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("a damaged record: %v", err)
	}
}

// Each write seals with a fresh nonce: two writes of the same values differ.
func TestEveryWriteReseals(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, _ := s.CreateDatabase(ctx, sampleDatabase("a"))
	blob := func() []byte {
		var b []byte
		s.DB().QueryRow("SELECT sealed FROM databases WHERE id = ?", id).Scan(&b)
		return b
	}
	first := blob()
	c, _ := s.DatabaseCredentials(ctx, id)
	c.Port = 1
	s.UpdateDatabase(ctx, id, c)
	c.Port = 5432
	s.UpdateDatabase(ctx, id, c)
	second := blob()
	if len(first) == 0 || bytes.Equal(first, second) || bytes.Equal(first[1:13], second[1:13]) {
		t.Fatal("the same record was sealed twice with the same nonce or blob")
	}
	var n int
	s.DB().QueryRow("SELECT count(*) FROM databases WHERE length(sealed) < ?", seal.Overhead).Scan(&n)
	if n != 0 {
		t.Fatal("a row has no sealed record")
	}
}
