package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

func TestWriteAccessOf(t *testing.T) {
	for _, c := range []struct {
		d    store.Database
		want string
	}{
		{store.Database{}, WriteAccessNone},
		{store.Database{DatabaseConfig: store.DatabaseConfig{Verdict: string(pg.VerdictReadOnly)}}, WriteAccessNone},
		{store.Database{DatabaseConfig: store.DatabaseConfig{Verdict: string(pg.VerdictWriteAccess)}}, WriteAccessFound},
		{store.Database{DatabaseConfig: store.DatabaseConfig{Verdict: string(pg.VerdictWriteAccess), WriteAccepted: true}}, WriteAccessAccepted},
	} {
		if got := WriteAccessOf(c.d); got != c.want {
			t.Errorf("verdict %q accepted %v: %q, want %q", c.d.Verdict, c.d.WriteAccepted, got, c.want)
		}
	}
}

func TestStorageNamesOf(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"nas", "usb"} {
		id, err := e.AddStorage(ctx, store.StorageConfig{Name: name, Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	names, err := e.StorageNamesOf(ctx, []int64{ids[1], ids[0]})
	if err != nil || strings.Join(names, ",") != "usb,nas" {
		t.Fatalf("names %v, %v", names, err)
	}
	if names, err := e.StorageNamesOf(ctx, nil); err != nil || names == nil || len(names) != 0 {
		t.Fatalf("no storages: %#v, %v", names, err)
	}
	if _, err := e.StorageNamesOf(ctx, []int64{ids[1] + 100}); err == nil {
		t.Fatal("a storage that does not exist has a name")
	}
}
