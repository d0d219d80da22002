package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usedStore makes a settings database PgSafe has used: a storage saved,
// closed, and the audit checkpoint the audit log keeps beside it.
func usedStore(t *testing.T) (string, func() error) {
	t.Helper()
	ctx := context.Background()
	mk := newKey(t)
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(ctx, path, mk)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 { // several pages, so one can be damaged in the middle
		name := "nas-" + strings.Repeat("x", 150) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, err := s.CreateStorage(ctx, StorageConfig{Name: name, Kind: StorageLocal, Local: &LocalStorage{Path: "/srv/backups/" + strings.Repeat("p", 900)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What backend/audit writes beside the database after its first entry.
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "audit.checkpoint"), []byte(`{"version":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	reopen := func() error {
		s, err := Open(ctx, path, mk)
		if err == nil {
			defer s.Close()
			if st, lerr := s.Storages(ctx); lerr != nil || len(st) != 0 {
				t.Errorf("the settings after a damaged database was set aside hold %d storages, %v; want none", len(st), lerr)
			}
		}
		return err
	}
	return path, reopen
}

func wantSetAside(t *testing.T, err error, path, reason string) {
	t.Helper()
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("Open = %v; want a DamagedError", err)
	}
	if !strings.Contains(de.Error(), reason) || !strings.Contains(de.Error(), "safe in their storages") {
		t.Fatalf("the error does not say what happened and what is safe: %v", de)
	}
	if de.KeptAs == "" {
		t.Fatalf("the damaged database was not moved aside: %v", de.MoveErr)
	}
	if _, err := os.Stat(filepath.Join(de.KeptAs, FileName)); err != nil {
		t.Fatalf("the damaged database is not kept in %s: %v", de.KeptAs, err)
	}
	if _, err := os.Stat(filepath.Join(de.KeptAs, "audit.checkpoint")); err != nil {
		t.Fatalf("the audit checkpoint of the damaged database is not kept with it: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the damaged database is still at %s: %v", path, err)
	}
}

// Issue 12, item 4: a 0-byte or damaged settings database PgSafe had used is
// neither silently replaced by empty settings nor an error on every command:
// Open says what happened, keeps it aside, and the next Open starts afresh.
func TestDamagedDatabaseIsSetAside(t *testing.T) {
	t.Run("emptied", func(t *testing.T) {
		path, reopen := usedStore(t)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		wantSetAside(t, reopen(), path, "is empty (0 bytes)")
		if err := reopen(); err != nil {
			t.Fatalf("the next Open after setting it aside: %v", err)
		}
	})
	t.Run("pages overwritten", func(t *testing.T) {
		path, reopen := usedStore(t)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if fi.Size() < 4*4096 {
			t.Fatalf("the test database is only %d bytes", fi.Size())
		}
		junk := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
		if _, err := f.WriteAt(junk, fi.Size()-2*4096); err != nil {
			t.Fatal(err)
		}
		f.Close()
		wantSetAside(t, reopen(), path, "is damaged")
		if err := reopen(); err != nil {
			t.Fatalf("the next Open after setting it aside: %v", err)
		}
	})
	t.Run("header overwritten", func(t *testing.T) {
		path, reopen := usedStore(t)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte(strings.Repeat("\x00", 100)), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		wantSetAside(t, reopen(), path, "is damaged")
	})
	t.Run("a 0-byte file PgSafe never used is a first start", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), path, newKey(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
}
