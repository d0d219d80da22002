package keys

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorKeyFile is the key file of the backup format's known-answer vectors.
var vectorKeyFile = filepath.Join("..", "format", "testdata", "format-v1", "key")

func writeTemp(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return p
}

func TestKeyFileVector(t *testing.T) {
	data, err := os.ReadFile(vectorKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := ParseKeyFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if mk.ID().String() != "8008a1e937543c33" {
		t.Fatalf("vector key ID %s", mk.ID())
	}
	if !bytes.Equal(MarshalKeyFile(mk), data) {
		t.Fatal("MarshalKeyFile differs from the committed vector key file")
	}
	p := writeTemp(t, "key", data, 0o600)
	got, src, err := OpenFile(context.Background(), p, nil)
	if err != nil || !got.Equal(mk) || src.Kind != SourceKeyFile || src.Path != p {
		t.Fatalf("OpenFile(0600) = %v, %v, %v", got, src, err)
	}
	for _, mode := range []os.FileMode{0o400, 0o700} {
		if _, err := LoadKeyFile(writeTemp(t, "key", data, mode)); err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
	}
}

func TestKeyFileWiderModeRefused(t *testing.T) {
	data, _ := os.ReadFile(vectorKeyFile)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		p := writeTemp(t, "key", data, mode)
		_, err := LoadKeyFile(p)
		if !errors.Is(err, ErrKeyFileMode) {
			t.Fatalf("mode %04o: err = %v, want ErrKeyFileMode", mode, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, p) || !strings.Contains(msg, "chmod 600") {
			t.Errorf("message %q should name the file and the fix", msg)
		}
		if strings.Contains(msg, "5e194129") {
			t.Errorf("message %q shows the key", msg)
		}
		if _, _, err := OpenFile(context.Background(), p, nil); !errors.Is(err, ErrKeyFileMode) {
			t.Errorf("OpenFile mode %04o: %v", mode, err)
		}
	}
}

func TestKeyFileParseErrors(t *testing.T) {
	mk, _ := MasterKeyFromBytes(bytes.Repeat([]byte{9}, 32))
	good := string(MarshalKeyFile(mk))
	keyHex := hex.EncodeToString(mk.Bytes())
	for name, body := range map[string]string{
		"empty":           "",
		"wrong magic":     "PGSAFE-KEY-2\n" + good[len("PGSAFE-KEY-1\n"):],
		"not a key file":  "hello\n",
		"id mismatch":     "PGSAFE-KEY-1\nid: 0000000000000000\nkey: " + keyHex + "\n",
		"missing key":     "PGSAFE-KEY-1\nid: " + mk.ID().String() + "\n",
		"unknown field":   good + "extra: 1\n",
		"repeated field":  good + "id: " + mk.ID().String() + "\n",
		"no space":        "PGSAFE-KEY-1\nid:" + mk.ID().String() + "\nkey: " + keyHex + "\n",
		"short key":       "PGSAFE-KEY-1\nid: " + mk.ID().String() + "\nkey: 00\n",
		"too large":       good + "#" + strings.Repeat("x", 4096) + "\n",
		"wrong id length": "PGSAFE-KEY-1\nid: 0" + mk.ID().String() + "\nkey: " + keyHex + "\n",
		"garbage line":    "PGSAFE-KEY-1\nid: " + mk.ID().String() + "\n" + keyHex + "\n",
	} {
		_, err := ParseKeyFile([]byte(body))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), keyHex[:16]) {
			t.Errorf("%s: error %q shows the key", name, err)
		}
	}
	crlf := bytes.ReplaceAll([]byte(good), []byte("\n"), []byte(" \t\r\n"))
	if k, err := ParseKeyFile(bytes.TrimSuffix(crlf, []byte("\r\n"))); err != nil || !k.Equal(mk) {
		t.Fatalf("CRLF, trailing blanks, no final newline: %v", err)
	}
	upper := strings.Replace(good, keyHex, strings.ToUpper(keyHex), 1)
	if k, err := ParseKeyFile([]byte(upper)); err != nil || !k.Equal(mk) {
		t.Fatalf("uppercase hex: %v", err)
	}
}

func TestWriteKeyFile(t *testing.T) {
	mk, _ := NewMasterKey()
	p := filepath.Join(t.TempDir(), "k")
	if err := WriteKeyFile(p, mk); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o", fi.Mode().Perm())
	}
	if got, err := LoadKeyFile(p); err != nil || !got.Equal(mk) {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if err := WriteKeyFile(p, mk); err == nil {
		t.Fatal("WriteKeyFile replaced an existing file")
	}
}
