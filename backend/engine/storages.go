package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/storage"
	"github.com/pgsafe/pgsafe/backend/storage/local"
	"github.com/pgsafe/pgsafe/backend/store"
)

// openStorage builds the backend of a stored storage (with its secrets).
func openStorage(c store.StorageConfig) (storage.Storage, error) {
	switch c.Kind {
	case store.StorageLocal:
		if c.Local == nil {
			return nil, errors.New("local storage without a folder")
		}
		return local.New(c.Local.Path)
	default:
		return nil, fmt.Errorf("storage %q is of kind %s, which this build of PgSafe cannot write to yet: use a local folder (or a mounted share)", c.Name, c.Kind)
	}
}

// AddStorage tests and stores a storage.
func (e *Engine) AddStorage(ctx context.Context, c store.StorageConfig) (int64, error) {
	s, err := openStorage(c)
	if err != nil {
		return 0, err
	}
	if err := probe(ctx, s); err != nil {
		return 0, err
	}
	id, err := e.store.CreateStorage(ctx, c)
	if err != nil {
		return 0, err
	}
	return id, e.record(ctx, Event{Action: "storage.created", Target: c.Name,
		Fields: map[string]string{"id": strconv.FormatInt(id, 10), "kind": string(c.Kind)}})
}

// Storages lists the stored storages (secrets withheld).
func (e *Engine) Storages(ctx context.Context) ([]store.Storage, error) { return e.store.Storages(ctx) }

// TestStorage writes, reads back and deletes a small object.
func (e *Engine) TestStorage(ctx context.Context, name string) error {
	st, err := e.store.StorageByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("storage", name)
	} else if err != nil {
		return err
	}
	c, err := e.store.StorageCredentials(ctx, st.ID)
	if err != nil {
		return err
	}
	s, err := openStorage(c)
	if err != nil {
		return err
	}
	return probe(ctx, s)
}

// probe proves a storage works: put, read back, delete.
func probe(ctx context.Context, s storage.Storage) error {
	var b [16]byte
	rand.Read(b[:])
	name := ".pgsafe-probe-" + hex.EncodeToString(b[:8])
	if err := s.Put(ctx, name, bytes.NewReader(b[:])); err != nil {
		return fmt.Errorf("test write to %s: %w", s, err)
	}
	rc, err := s.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("test read from %s: %w", s, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, b[:]) {
		return fmt.Errorf("test read from %s returned other data (%v)", s, err)
	}
	if err := s.Delete(ctx, name); err != nil {
		return fmt.Errorf("test delete on %s: %w", s, err)
	}
	return nil
}

// targets opens the storages a backup goes to.
func (e *Engine) targets(ctx context.Context, ids []int64) ([]backup.Target, func(), error) {
	var out []backup.Target
	for _, id := range ids {
		c, err := e.store.StorageCredentials(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("storage %d: %w", id, err)
		}
		s, err := openStorage(c)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, backup.Target{ID: strconv.FormatInt(id, 10), Name: c.Name, Storage: s})
	}
	return out, func() {}, nil
}
