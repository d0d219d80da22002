package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/format"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
)

const kitPass = "correct horse battery staple"

// newMachine gives the test a fresh keychain (a private Secret Service) and
// a fresh settings directory: another computer, as far as PgSafe can tell.
func newMachine(t *testing.T) string {
	t.Helper()
	testenv.Keychain(t)
	home := t.TempDir()
	t.Setenv("PGSAFE_HOME", home)
	t.Setenv(keys.EnvKeyFile, "")
	return home
}

func TestKeyLifecycleAndDecrypt(t *testing.T) {
	dir := t.TempDir()
	var outputs []string
	run := func(want int, stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		outputs = append(outputs, out, errOut)
		if code != want {
			t.Fatalf("pgsafe %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}

	// Machine A: create the key, make a backup file with it, export a kit.
	homeA := newMachine(t)
	out, _ := run(0, "", "key", "init")
	out, _ = run(0, "", "key", "id", "--json")
	var id struct{ KeyID, Source string }
	if err := json.Unmarshal([]byte(strings.ReplaceAll(out, "key_id", "KeyID")), &id); err != nil || len(id.KeyID) != 16 || id.Source != "keychain" {
		t.Fatalf("key id --json: %s (%v)", out, err)
	}
	mkA, _, err := keys.Open(context.Background(), keys.Options{Home: homeA})
	if err != nil || mkA.ID().String() != id.KeyID {
		t.Fatalf("the keychain holds %v, key id said %s (%v)", mkA, id.KeyID, err)
	}
	plain := make([]byte, 3<<20) // incompressible: several chunks
	rand.Read(plain)
	backupFile := filepath.Join(dir, "b.pgsafe")
	writeBackup(t, backupFile, mkA, plain)
	kit := filepath.Join(dir, "kit.pgsafe-key")
	run(0, kitPass+"\n", "key", "export", "--out", kit, "--passphrase-stdin")
	_, errOut := run(1, kitPass+"\n", "key", "export", "--out", kit, "--passphrase-stdin")
	if !strings.Contains(errOut, "already exists") {
		t.Errorf("export over an existing kit: %s", errOut)
	}
	run(1, "short\n", "key", "export", "--out", filepath.Join(dir, "weak"), "--passphrase-stdin")

	// Machine B: no key yet; import the kit; decrypt the backup.
	newMachine(t)
	_, errOut = run(1, "", "key", "id")
	if !strings.Contains(errOut, "no master key") {
		t.Errorf("key id on a new machine: %s", errOut)
	}
	_, errOut = run(1, "wrong passphrase here\n", "key", "import", kit, "--passphrase-stdin")
	if !strings.Contains(errOut, "wrong passphrase") {
		t.Errorf("import with a wrong passphrase: %s", errOut)
	}
	run(0, kitPass+"\n", "key", "import", kit, "--passphrase-stdin")
	out, _ = run(0, "", "key", "id")
	if !strings.HasPrefix(out, id.KeyID) {
		t.Fatalf("after import, key id = %s, want %s", out, id.KeyID)
	}
	outFile := filepath.Join(dir, "b.dump")
	run(0, "", "decrypt", "--in", backupFile, "--out", outFile)
	if got, _ := os.ReadFile(outFile); !bytes.Equal(got, plain) {
		t.Fatal("decrypted archive differs")
	}
	_, errOut = run(1, "", "decrypt", "--in", backupFile, "--out", outFile)
	if !strings.Contains(errOut, "already exists") {
		t.Errorf("decrypt over an existing file: %s", errOut)
	}

	// Machine C: nothing in the keychain; the recovery kit alone opens the backup.
	newMachine(t)
	out, _ = run(0, kitPass+"\n", "decrypt", "--in", backupFile, "--out", "-", "--recovery-kit", kit, "--passphrase-stdin")
	if out != string(plain) {
		t.Fatal("decrypt --out - with the recovery kit differs")
	}

	// A wrong key names both IDs and leaves no output file.
	other, _ := keys.NewMasterKey()
	otherFile := filepath.Join(dir, "other.key")
	if err := keys.WriteKeyFile(otherFile, other); err != nil {
		t.Fatal(err)
	}
	noOut := filepath.Join(dir, "none.dump")
	_, errOut = run(1, "", "decrypt", "--in", backupFile, "--out", noOut, "--key-file", otherFile)
	if !strings.Contains(errOut, id.KeyID) || !strings.Contains(errOut, other.ID().String()) {
		t.Errorf("wrong key error does not name both keys: %s", errOut)
	}
	assertNoFile(t, noOut)

	// A damaged file: no output file either.
	data, _ := os.ReadFile(backupFile)
	data[len(data)/2] ^= 1
	damaged := filepath.Join(dir, "damaged.pgsafe")
	os.WriteFile(damaged, data, 0o600)
	_, errOut = run(1, kitPass+"\n", "decrypt", "--in", damaged, "--out", noOut, "--recovery-kit", kit, "--passphrase-stdin")
	if !strings.Contains(errOut, "failed authentication") || !strings.Contains(errOut, "offset") {
		t.Errorf("damaged file: %s", errOut)
	}
	assertNoFile(t, noOut)
	if left, _ := filepath.Glob(filepath.Join(dir, ".none.dump.pgsafe-part-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// No key material or passphrase in anything printed.
	raw := mkA.Bytes()
	for _, o := range outputs {
		for _, secret := range []string{hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), kitPass} {
			if strings.Contains(o, secret) {
				t.Fatalf("output shows a secret: %q", o)
			}
		}
	}
}

func TestKeychainMissing(t *testing.T) {
	testenv.KeychainMissing(t)
	t.Setenv("PGSAFE_HOME", t.TempDir())
	t.Setenv(keys.EnvKeyFile, "")
	code, _, errOut := runIn(t, "", "key", "init")
	if code == 0 || !strings.Contains(errOut, "keychain is not available") || !strings.Contains(errOut, "--key-file-protected") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("key init without a keychain: exit %d, %q", code, errOut)
	}
	// The explicit fallback works there.
	protected := filepath.Join(t.TempDir(), "master.pgsafe-key")
	code, out, errOut := runIn(t, kitPass+"\n", "key", "init", "--key-file-protected", protected, "--passphrase-stdin")
	if code != 0 || !strings.Contains(out, "created master key") {
		t.Fatalf("key init --key-file-protected: %d %s %s", code, out, errOut)
	}
	code, out, _ = runIn(t, "", "key", "id")
	if code != 0 || !strings.Contains(out, "protected-key-file") {
		t.Fatalf("key id with a protected key file: %s", out)
	}
}

func writeBackup(t *testing.T, path string, mk *keys.MasterKey, plain []byte) {
	t.Helper()
	id, _ := format.NewBackupID()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := format.NewWriter(f, mk, format.Header{BackupID: id, Compression: format.CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s was left behind after a failure", path)
	}
}
