package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestCheckPassphrase(t *testing.T) {
	weak := CheckPassphrase("password1")
	if weak.OK || weak.Reason == "" || strings.Contains(weak.Reason, "password1") || strings.ToUpper(weak.Reason[:1]) != weak.Reason[:1] ||
		strings.HasPrefix(weak.Reason, keys.ErrWeakPassphrase.Error()) {
		t.Fatalf("a weak passphrase: %+v", weak)
	}
	if c := CheckPassphrase(""); c.OK || c.Strength != 0 {
		t.Fatalf("no passphrase: %+v", c)
	}
	gen, err := GeneratePassphrase()
	if err != nil {
		t.Fatal(err)
	}
	if c := CheckPassphrase(gen); !c.OK || c.Reason != "" || c.Strength <= weak.Strength || c.Strength > 100 {
		t.Fatalf("a generated passphrase (%d words): %+v", len(strings.Fields(gen)), c)
	}
}

func TestKitPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if p, err := kitPath(" ~/kit.txt "); err != nil || p != filepath.Join(home, "kit.txt") {
		t.Fatalf("~/kit.txt: %q, %v", p, err)
	}
	if _, err := kitPath("  "); err == nil {
		t.Fatal("no path was accepted")
	}
	if _, err := kitPath(filepath.Join(home, "nowhere", "kit.txt")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing folder: %v", err)
	}
	want := filepath.Join(home, "PgSafe-recovery-kit-abc.txt") // no Documents folder
	if p := DefaultKitPath("abc"); p != want {
		t.Fatalf("default %q, want %q", p, want)
	}
	os.WriteFile(want, nil, 0o600)
	if p := DefaultKitPath("abc"); p != filepath.Join(home, "PgSafe-recovery-kit-abc-2.txt") {
		t.Fatalf("default beside a taken one: %q", p)
	}
}

// A key in the keychain needs a kit: the welcome is due until the user
// postpones it or saves one; an exported kit is inspected as the same key,
// and importing it again only records that the user holds it.
func TestRecoveryKitExportInspectImport(t *testing.T) {
	testenv.Keychain(t)
	ctx := context.Background()
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	t.Setenv("HOME", t.TempDir())
	e, err := Open(ctx, Options{Home: home, CreateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	k := e.Key()
	if k.Source != string(keys.SourceKeychain) || !k.Created || k.ID == "" {
		t.Fatalf("key %+v", k)
	}
	info, err := e.RecoveryKit(ctx)
	if err != nil || !info.Needed || !info.Welcome || info.Saved || info.KeyID != k.ID || info.DefaultPath == "" {
		t.Fatalf("first start: %+v, %v", info, err)
	}
	if err := e.PostponeRecoveryKit(ctx); err != nil {
		t.Fatal(err)
	}
	if info, _ := e.RecoveryKit(ctx); !info.Postponed || info.Welcome {
		t.Fatalf("postponed: %+v", info)
	}

	path := filepath.Join(t.TempDir(), "kit.txt")
	if _, err := e.ExportRecoveryKit(ctx, "password1", path); err == nil {
		t.Fatal("a weak passphrase sealed a kit")
	}
	pass, _ := GeneratePassphrase()
	kit, err := e.ExportRecoveryKit(ctx, pass, path)
	if err != nil || kit.KeyID != k.ID || kit.Path != path || !strings.Contains(kit.Text, k.ID) || strings.Contains(kit.Text, pass) {
		t.Fatalf("export: %+v, %v", kit, err)
	}
	if info, _ := e.RecoveryKit(ctx); !info.Saved || info.SavedHow != "exported" || info.SavedPath != path {
		t.Fatalf("after export: %+v", info)
	}
	check, err := e.InspectRecoveryKit(ctx, path)
	if err != nil || !check.Same || !check.CanImport || check.Blocked != "" {
		t.Fatalf("inspect: %+v, %v", check, err)
	}
	if _, _, err := e.ImportRecoveryKit(ctx, path, pass+"x", false); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	res, rep, err := e.ImportRecoveryKit(ctx, path, pass, false)
	if err != nil || rep != nil || !res.Unchanged || res.KeyID != k.ID {
		t.Fatalf("import the same key: %+v, %v, %v", res, rep, err)
	}
	if info, _ := e.RecoveryKit(ctx); info.SavedHow != "imported" {
		t.Fatalf("after import: %+v", info)
	}
}

// A kit of another key is refused while these settings hold a database.
func TestInspectRecoveryKitBlocksAKeyInUse(t *testing.T) {
	ctx := context.Background()
	e, _ := newEngine(t)
	other, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other-kit.txt")
	pass, _ := GeneratePassphrase()
	p := keys.NewPassphrase([]byte(pass))
	if _, err := keys.ExportKit(ctx, other, p, path); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateDatabase(ctx, store.DatabaseConfig{Name: "shop", Host: "localhost", Port: 5432, DBName: "shop", User: "r"}); err != nil {
		t.Fatal(err)
	}
	check, err := e.InspectRecoveryKit(ctx, path)
	if err != nil || check.Same || check.CanImport || check.Databases != 1 || !strings.Contains(check.Blocked, "1 database and 0 backups") {
		t.Fatalf("inspect another key: %+v, %v", check, err)
	}
	if _, rep, err := e.ImportRecoveryKit(ctx, path, pass, true); err == nil || rep != nil || err.Error() != check.Blocked {
		t.Fatalf("import another key over a database: %v", err)
	}
}

func TestDescribeOpenFailure(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("PgSafe's key and settings are not open: %w", err) }
	ke := &keys.KeychainError{Op: "read", Reason: "the keychain is locked", Err: errors.New("dbus")}
	if f := DescribeOpenFailure(wrap(ke)); f.Message != ke.Error() || f.SettingsDamaged || f.SettingsModified {
		t.Fatalf("keychain: %+v", f)
	}
	de := &store.DamagedError{Path: "/h/pgsafe.db", Reason: "is empty", KeptAs: "/h/damaged-1"}
	if f := DescribeOpenFailure(wrap(de)); !f.SettingsDamaged || f.KeptAs != de.KeptAs || f.SettingsPath != de.Path || f.DamagedReason != "is empty" {
		t.Fatalf("damaged: %+v", f)
	}
	me := &store.ModifiedError{Path: "/h/pgsafe.db", Detail: "it is an older copy"}
	if f := DescribeOpenFailure(wrap(me)); !f.SettingsModified || f.ModifiedDetail != me.Detail || f.Message != me.Error() {
		t.Fatalf("modified: %+v", f)
	}
	other := errors.New("something else")
	if f := DescribeOpenFailure(wrap(other)); f.Message != wrap(other).Error() || f.SettingsDamaged || f.SettingsModified {
		t.Fatalf("other: %+v", f)
	}
}
