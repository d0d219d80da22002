package keys

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Unprotected key file (docs/FORMAT.md, "Key file"): the master key in hex, for
// --key-file on headless machines and for tests.
const (
	keyFileMagic   = "PGSAFE-KEY-1"
	keyFileMaxSize = 4096
	keyFileComment = "# PgSafe master key. Anyone with this file can read your backups: keep it secret."
)

// MarshalKeyFile returns mk as an unprotected key file, exactly as FORMAT.md says
// writers write it. The result holds the raw key: wipe it after use.
func MarshalKeyFile(mk *MasterKey) []byte {
	return []byte(keyFileMagic + "\n" + keyFileComment + "\n" +
		"id: " + mk.ID().String() + "\n" +
		"key: " + hex.EncodeToString(mk.b[:]) + "\n")
}

// ParseKeyFile reads an unprotected key file.
func ParseKeyFile(data []byte) (*MasterKey, error) {
	if len(data) > keyFileMaxSize {
		return nil, fmt.Errorf("key file is larger than %d bytes: not a PgSafe key file", keyFileMaxSize)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	fields := map[string]string{}
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimRight(strings.TrimSuffix(sc.Text(), "\r"), " \t")
		if line == 1 {
			switch {
			case s == keyFileMagic:
				continue
			case strings.HasPrefix(s, "PGSAFE-KEY-"):
				return nil, fmt.Errorf("unsupported key file version %q (written by a newer PgSafe?)", s)
			default:
				return nil, errors.New("not a PgSafe key file (the first line is not PGSAFE-KEY-1)")
			}
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, value, ok := strings.Cut(s, ": ")
		if !ok || (name != "id" && name != "key") {
			// Never echo the line: it may hold (part of) the key.
			return nil, fmt.Errorf("key file line %d is not `id: …` or `key: …`", line)
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("key file has the field %q twice", name)
		}
		fields[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(data) == 0 {
		return nil, errors.New("key file is empty")
	}
	idText, keyText := fields["id"], fields["key"]
	if idText == "" || keyText == "" {
		return nil, errors.New("key file lacks its `id:` or `key:` line")
	}
	if len(idText) != 2*KeyIDSize {
		return nil, fmt.Errorf("key file id: want %d hex digits", 2*KeyIDSize)
	}
	id, err := ParseKeyID(idText)
	if err != nil {
		return nil, fmt.Errorf("key file id: want %d hex digits", 2*KeyIDSize)
	}
	raw, err := hex.DecodeString(keyText)
	defer clear(raw)
	if err != nil || len(raw) != MasterKeySize {
		return nil, fmt.Errorf("key file key: want %d hex digits", 2*MasterKeySize)
	}
	mk, _ := MasterKeyFromBytes(raw)
	if mk.ID() != id {
		mk.Wipe()
		return nil, fmt.Errorf("key file is damaged: its key has ID %s but the file says %s", mk.ID(), id)
	}
	return mk, nil
}

// LoadKeyFile reads an unprotected key file, refusing one that other users could
// read (on Unix: any group or other permission bit).
func LoadKeyFile(path string) (*MasterKey, error) {
	data, err := readKeyMaterial(path)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	if !bytes.HasPrefix(data, []byte("PGSAFE-KEY-")) {
		return nil, fmt.Errorf("%s is not a PgSafe key file", path)
	}
	return loadUnprotected(path, data)
}

func loadUnprotected(path string, data []byte) (*MasterKey, error) {
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	mk, err := ParseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return mk, nil
}

// checkPrivate refuses a key file with group or other permissions.
func checkPrivate(path string) error {
	if runtime.GOOS == "windows" { // no Unix modes; ACLs are the user profile's
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, and it holds your master key: make it private with `chmod 600 %s` (PgSafe accepts 0600 or stricter)",
			ErrKeyFileMode, path, perm, path)
	}
	return nil
}

// readKeyMaterial reads a key file or kit, at most 64 KiB.
func readKeyMaterial(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > 64<<10 {
		clear(data)
		return nil, fmt.Errorf("%s is too large to be a PgSafe key file or recovery kit", path)
	}
	return data, nil
}

// WriteKeyFile writes mk as an unprotected key file with mode 0600. It refuses to
// replace an existing file.
func WriteKeyFile(path string, mk *MasterKey) error {
	data := MarshalKeyFile(mk)
	defer clear(data)
	return writeNewFile(path, data)
}
