package pg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConnString(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	t.Setenv("PGHOST", "")
	t.Setenv("PGPORT", "")
	t.Setenv("PGUSER", "")
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGDATABASE", "")
	t.Setenv("PGPASSFILE", "/nonexistent")
	ca := newTestCA(t)
	cases := []struct {
		in   string
		want Config
	}{
		{"postgres://backup:s%40cr%3At@db.example.com:6432/shop?sslmode=verify-full&sslrootcert=" + ca.File,
			Config{Host: "db.example.com", Port: 6432, Database: "shop", User: "backup", SSLMode: SSLVerifyFull, SSLRootCert: ca.File}},
		{"postgresql://u@10.0.0.5/app?ssl=true&connect_timeout=7",
			Config{Host: "10.0.0.5", Port: 5432, Database: "app", User: "u", SSLMode: SSLRequire, ConnectTimeout: 7 * time.Second}},
		{"postgres://u:pw@[::1]:5433/d",
			Config{Host: "::1", Port: 5433, Database: "d", User: "u"}},
		{"host=db.example.com port=5433 dbname='my shop' user=backup password='it''s' sslmode=require",
			Config{Host: "db.example.com", Port: 5433, Database: "my shop", User: "backup", SSLMode: SSLRequire}},
		{`host=h dbname=d user=u password='a b\'c'`,
			Config{Host: "h", Port: 5432, Database: "d", User: "u"}},
	}
	passwords := []string{"s@cr:t", "", "pw", "", `a b'c`}
	for i, c := range cases {
		got, err := ParseConnString(c.in)
		if i == 3 {
			// libpq has no '' escape inside quotes: that string is invalid.
			if err == nil {
				t.Errorf("%d: want an error for '' inside quotes, got %v", i, got)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got.Password.Reveal() != passwords[i] {
			t.Errorf("%d: password %q, want %q", i, got.Password.Reveal(), passwords[i])
		}
		got.Password = Secret{}
		if fmt.Sprint(got.fields()) != fmt.Sprint(c.want.fields()) {
			t.Errorf("%d: got %v\nwant %v", i, got.fields(), c.want.fields())
		}
	}
}

// fields lists a Config's fields for comparisons in tests.
func (c Config) fields() []any {
	return []any{c.Host, c.Port, c.Database, c.User, c.Password.Reveal(), c.SSLMode, c.SSLRootCert, c.SSLCert, c.SSLKey, c.SSLPassword.Reveal(), c.ConnectTimeout}
}

// A string without a password takes it from the passfile, as libpq does:
// that is how an entry of ~/.pgpass is imported.
func TestParseConnStringPassfile(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(pass, []byte("db.example.com:5432:shop:backup:from-the-passfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", pass)
	t.Setenv("PGPASSWORD", "")
	cfg, err := ParseConnString("postgres://backup@db.example.com/shop?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password.Reveal() != "from-the-passfile" {
		t.Errorf("password %q", cfg.Password.Reveal())
	}
}

func TestParseConnStringRefuses(t *testing.T) {
	const pw = "Sup3rS3cretPW"
	cases := map[string]string{
		"postgres://u:" + pw + "@h/d?options=-c%20default_transaction_read_only%3Doff":    `sets "options"`,
		"host=h dbname=d user=u password=" + pw + " service=prod":                         `sets "service"`,
		"postgres://u:" + pw + "@h1,h2/d":                                                 "several hosts",
		"postgres://u:" + pw + "@h:99999/d":                                               "port",
		"postgres://u:" + pw + "@h/d?sslmode=paranoid":                                    "sslmode",
		"mysql://u:" + pw + "@h/d":                                                        "postgres://",
		"host=h dbname=d user=u password='" + pw:                                          "not valid",
		"postgres://u:" + pw + "@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem": "SSL settings",
		"  ": "empty",
	}
	for in, want := range cases {
		_, err := ParseConnString(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q does not say %q", in, err, want)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "://u:") {
			t.Errorf("%q: error shows the password or URL: %v", in, err)
		}
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	const pw, keypw = "Hunter2-Password", "Key-Passphrase-9"
	cfg := Config{Host: "db", Port: 5432, Database: "shop", User: "backup", Password: NewSecret(pw), SSLPassword: NewSecret(keypw)}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("connecting", "cfg", cfg, "pw", cfg.Password)
	log.Info("connecting", slog.Any("cfg", &cfg))
	js, _ := json.Marshal(cfg)
	outs := []string{
		fmt.Sprintf("%v %+v %#v %s %d %x %q", cfg, cfg, cfg, cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v %+v %#v %s %d %x %q", &cfg, &cfg, &cfg, &cfg, &cfg, &cfg, &cfg),
		fmt.Sprintf("%v %+v %#v %s %d %x", cfg.Password, cfg.Password, cfg.Password, cfg.Password, cfg.Password, cfg.Password),
		fmt.Sprintf("%v %+v", struct{ C Config }{cfg}, []Config{cfg}),
		logs.String(), string(js),
	}
	for _, o := range outs {
		if strings.Contains(o, pw) || strings.Contains(o, keypw) {
			t.Errorf("a secret is printed: %s", o)
		}
	}
	if got := cfg.String(); got != "backup@db:5432/shop" {
		t.Errorf("String = %q", got)
	}
	if !strings.Contains(outs[4], "backup@db:5432/shop") {
		t.Errorf("the log does not name the connection: %s", outs[4])
	}
}

func TestPgxConfigIsReadOnly(t *testing.T) {
	t.Setenv("PGOPTIONS", "-c default_transaction_read_only=off")
	cfg := Config{Host: "db", Database: "d", User: "u", Password: NewSecret("p"), SSLMode: SSLDisable}
	pc, err := cfg.PgxConfig()
	if err != nil {
		t.Fatal(err)
	}
	if pc.RuntimeParams["default_transaction_read_only"] != "on" {
		t.Errorf("RuntimeParams = %v", pc.RuntimeParams)
	}
	if _, ok := pc.RuntimeParams["options"]; ok {
		t.Errorf("PGOPTIONS reached the session: %v", pc.RuntimeParams)
	}
	if pc.Password != "p" || pc.Port != 5432 || pc.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("password/port/timeout: %q %d %v", pc.Password, pc.Port, pc.ConnectTimeout)
	}
	if _, err := (Config{Host: "db", User: "u"}).PgxConfig(); err == nil || !strings.Contains(err.Error(), "database name") {
		t.Errorf("no database: %v", err)
	}
	tc := cfg.ToolConn()
	if tc.Password != "p" || tc.Host != "db" || tc.AllowWrite {
		t.Errorf("ToolConn: %v", tc)
	}
}
