package local

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/storagetest"
)

func TestConformance(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, s)
}

func TestFolderMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "usb-drive")
	if _, err := New(missing); err == nil || !strings.Contains(err.Error(), "mount the drive") {
		t.Fatalf("New(missing) = %v", err)
	}
}

func TestNamesStayInside(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(filepath.Join(dir))
	for _, name := range []string{"../escape", "a/../../b", "/abs", ""} {
		if err := s.Put(context.Background(), name, bytes.NewReader(nil)); err == nil {
			t.Errorf("Put(%q) accepted", name)
		}
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores modes: use a read-only bind instead of chmod.
		t.Log("running as root: checking through a file where a folder is needed")
		dir := t.TempDir()
		s, _ := New(dir)
		os.WriteFile(filepath.Join(dir, "db"), []byte("x"), 0o600)
		if err := s.Put(context.Background(), "db/a", bytes.NewReader(nil)); err == nil {
			t.Fatal("Put under a file succeeded")
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	s, _ := New(dir)
	if err := s.Put(context.Background(), "a", bytes.NewReader(nil)); err == nil || !strings.Contains(err.Error(), "may not write") {
		t.Fatalf("Put in a read-only folder: %v", err)
	}
}

func TestFree(t *testing.T) {
	s, _ := New(t.TempDir())
	free, err := s.Free(context.Background())
	if err != nil || free <= 0 {
		t.Fatalf("Free = %d, %v", free, err)
	}
}

func TestSpace(t *testing.T) {
	l, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	free, total, err := l.Space(context.Background())
	if err != nil || free <= 0 || total < free {
		t.Fatalf("Space = %d free of %d (%v)", free, total, err)
	}
	var _ storage.Spacer = l
}
