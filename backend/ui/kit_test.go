package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/store"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kitSession is a started core on a fresh settings folder, whose log (and
// slog's default, which the keys package's own audit hook writes to) goes to
// logs.
func kitSession(t *testing.T, logs *syncBuffer) (*SystemService, *Core) {
	t.Helper()
	t.Setenv(paths.EnvHome, t.TempDir())
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log)
	c := NewCore(log)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		slog.SetDefault(prev)
	})
	return NewSystemService(c), c
}

// noSecrets fails if any of the secrets appears in what the window got or
// in the log.
func noSecrets(t *testing.T, logs *syncBuffer, returned []any, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(returned)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("an empty secret to look for")
		}
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("a secret (%d chars) is in a value returned to the window: %s", len(s), b)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("a secret (%d chars) is in the log:\n%s", len(s), logs.String())
		}
	}
}

// keychainKey is the master key as the keychain holds it (base64), to make
// sure it never leaves.
func keychainKey(t *testing.T) string {
	t.Helper()
	v, err := keyring.Get(keys.KeychainService, keys.KeychainAccount)
	if err != nil {
		t.Fatal(err)
	}
	return v[strings.LastIndex(v, ":")+1:]
}

func TestRecoveryKitWelcomeExportAndImport(t *testing.T) {
	testenv.Keychain(t)
	var logs syncBuffer
	sys, _ := kitSession(t, &logs)

	info, err := sys.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if !info.KeyCreated || !info.Needed || info.Saved || info.Postponed || !info.Welcome {
		t.Fatalf("first start: %+v, want a created key, no kit and the welcome", info)
	}
	if !strings.HasSuffix(info.DefaultPath, "PgSafe-recovery-kit-"+info.KeyID+".txt") || !filepath.IsAbs(info.DefaultPath) {
		t.Fatalf("default path %q", info.DefaultPath)
	}

	// A weak passphrase is refused with the reason, never quoting it.
	weak := "password1234"
	chk := sys.CheckPassphrase(weak)
	if chk.OK || chk.Reason == "" || strings.Contains(chk.Reason, weak) || chk.Strength >= 50 {
		t.Fatalf("weak passphrase: %+v", chk)
	}
	if chk := sys.CheckPassphrase("short"); chk.OK || !strings.Contains(chk.Reason, "at least 12") {
		t.Fatalf("short passphrase: %+v", chk)
	}
	out := filepath.Join(t.TempDir(), "kit.txt")
	if _, err := sys.ExportRecoveryKit(weak, out); err == nil || strings.Contains(err.Error(), weak) {
		t.Fatalf("export with a weak passphrase: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused export left a file: %v", err)
	}

	pass, err := sys.GeneratePassphrase()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(pass)); n != keys.GeneratedWords {
		t.Fatalf("generated passphrase has %d words", n)
	}
	if chk := sys.CheckPassphrase(pass); !chk.OK || chk.Strength < 50 {
		t.Fatalf("generated passphrase rated %+v", chk)
	}
	kit, err := sys.ExportRecoveryKit(pass, out)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if kit.Path != out || kit.KeyID != info.KeyID || kit.Text != string(file) || !strings.HasPrefix(kit.Text, "PGSAFE-KIT-1\n") {
		t.Fatalf("exported %+v, file:\n%s", kit, file)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("kit file mode %v", fi.Mode())
	}
	if _, err := sys.ExportRecoveryKit(pass, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("export over an existing file: %v", err)
	}
	saved, err := sys.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Saved || saved.SavedPath != out || saved.SavedHow != "exported" || saved.SavedAt.IsZero() || saved.Welcome {
		t.Fatalf("after the export: %+v", saved)
	}
	noSecrets(t, &logs, []any{info, kit, saved}, pass, keychainKey(t))

	// A second settings folder on this machine: the keychain's key is there,
	// no kit of it is recorded, so the welcome shows; importing the kit
	// proves the user holds it.
	var logs2 syncBuffer
	sys2, _ := kitSession(t, &logs2)
	info2, err := sys2.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if info2.KeyCreated || info2.KeyID != info.KeyID || !info2.Welcome {
		t.Fatalf("second settings folder: %+v", info2)
	}
	check, err := sys2.InspectRecoveryKit(out)
	if err != nil {
		t.Fatal(err)
	}
	if !check.Same || !check.CanImport || check.KitKeyID != info.KeyID {
		t.Fatalf("inspect: %+v", check)
	}
	if _, err := sys2.ImportRecoveryKit(out, "not the right passphrase at all", false); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	imp, err := sys2.ImportRecoveryKit(out, pass, false)
	if err != nil {
		t.Fatal(err)
	}
	if !imp.Unchanged || imp.KeyID != info.KeyID || imp.Replaced != "" {
		t.Fatalf("import of this machine's own kit: %+v", imp)
	}
	info2, err = sys2.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if !info2.Saved || info2.SavedHow != "imported" || info2.Welcome {
		t.Fatalf("after the import: %+v", info2)
	}
	noSecrets(t, &logs2, []any{check, imp, info2}, pass, keychainKey(t))
}

func TestRecoveryKitLater(t *testing.T) {
	testenv.Keychain(t)
	var logs syncBuffer
	sys, _ := kitSession(t, &logs)
	if err := sys.PostponeRecoveryKit(); err != nil {
		t.Fatal(err)
	}
	info, err := sys.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if !info.Postponed || info.Welcome || info.Saved {
		t.Fatalf("after Later: %+v", info)
	}
}

// writeOtherKit writes a kit of a new key (not this machine's).
func writeOtherKit(t *testing.T, pass string) (string, keys.KeyID) {
	t.Helper()
	mk, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	defer mk.Wipe()
	kit, err := keys.SealKit(mk, keys.NewPassphrase([]byte(pass)))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-kit.txt")
	if err := os.WriteFile(p, kit.Text(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, kit.KeyID
}

// TestRecoveryKitReplacesAFreshKey: on a first start (nothing made with
// the new key yet), the kit of the user's old key replaces it only when
// asked; the fresh settings are moved aside and PgSafe opens again under
// the imported key.
func TestRecoveryKitReplacesAFreshKey(t *testing.T) {
	testenv.Keychain(t)
	var logs syncBuffer
	sys, c := kitSession(t, &logs)
	fresh := c.keyStatus().KeyID
	home := os.Getenv(paths.EnvHome)
	pass := "correct horse battery staple kumquat"
	path, other := writeOtherKit(t, pass)

	check, err := sys.InspectRecoveryKit(path)
	if err != nil {
		t.Fatal(err)
	}
	if check.Same || !check.CanImport || check.Blocked != "" || check.ThisKeyID != fresh || check.KitKeyID != other.String() {
		t.Fatalf("inspect a fresh machine: %+v", check)
	}
	if _, err := sys.ImportRecoveryKit(path, pass, false); err == nil || !strings.Contains(err.Error(), fresh) || !strings.Contains(err.Error(), other.String()) {
		t.Fatalf("import without replace: %v", err)
	}
	if got := c.keyStatus().KeyID; got != fresh {
		t.Fatalf("the key changed to %s without replace", got)
	}
	imp, err := sys.ImportRecoveryKit(path, pass, true)
	if err != nil {
		t.Fatal(err)
	}
	if imp.KeyID != other.String() || imp.Replaced != fresh || !strings.HasPrefix(imp.KeptAs, home) {
		t.Fatalf("replace: %+v", imp)
	}
	if _, err := os.Stat(filepath.Join(imp.KeptAs, store.FileName)); err != nil {
		t.Fatalf("the replaced key's settings were not kept: %v", err)
	}
	if st := c.keyStatus(); !st.Ready || st.KeyID != other.String() {
		t.Fatalf("after the replace: %+v", st)
	}
	info, err := sys.RecoveryKit()
	if err != nil {
		t.Fatal(err)
	}
	if !info.Saved || info.SavedHow != "imported" || info.Welcome {
		t.Fatalf("after the replace: %+v", info)
	}
	noSecrets(t, &logs, []any{check, imp, info}, pass, keychainKey(t))
}

// TestRecoveryKitKeepsAKeyInUse: with a database in the settings, a kit of
// another key is not imported: the window says why.
func TestRecoveryKitKeepsAKeyInUse(t *testing.T) {
	testenv.Keychain(t)
	var logs syncBuffer
	sys, c := kitSession(t, &logs)
	e, err := c.engine()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store().CreateDatabase(context.Background(), store.DatabaseConfig{Name: "shop", Host: "db.example", Port: 5432, DBName: "shop", User: "reader"}); err != nil {
		t.Fatal(err)
	}
	pass := "correct horse battery staple kumquat"
	path, _ := writeOtherKit(t, pass)
	check, err := sys.InspectRecoveryKit(path)
	if err != nil {
		t.Fatal(err)
	}
	if check.CanImport || check.Databases != 1 || !strings.Contains(check.Blocked, "1 database") {
		t.Fatalf("inspect with a database: %+v", check)
	}
	before := c.keyStatus().KeyID
	if _, err := sys.ImportRecoveryKit(path, pass, true); err == nil || !strings.Contains(err.Error(), "keeps it") {
		t.Fatalf("replace with a database: %v", err)
	}
	if got := c.keyStatus().KeyID; got != before {
		t.Fatalf("the key changed to %s", got)
	}
}
