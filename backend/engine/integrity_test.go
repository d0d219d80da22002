package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/store"
)

// Rows edited with SQL: the check names them and which a forget removes;
// forgetting removes the history and schedule rows only, audited; the
// configuration row stays until the user accepts the file.
func TestCheckAndForgetDamagedSettings(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	if c, err := e.CheckSettings(ctx); err != nil || len(c.Damaged) != 0 || c.Err() != nil {
		t.Fatalf("fresh settings: %+v, %v", c, err)
	}
	if gone, err := e.ForgetDamagedSettings(ctx); err != nil || len(gone) != 0 || audit.actions() != "" {
		t.Fatalf("nothing to forget: %v, %v, audited %q", gone, err, audit.actions())
	}
	if _, err := e.AddStorage(ctx, store.StorageConfig{Name: "nas", Kind: store.StorageLocal, Local: &store.LocalStorage{Path: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddDatabase(ctx, DatabaseInput{Name: "shop", Host: "db.example", DBName: "shop", User: "reader"}, AddOptions{NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseScheduleSpec("daily", "02:30", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetSchedule(ctx, "shop", cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(e.SettingsFile(), store.FileName) {
		t.Fatalf("settings file %q", e.SettingsFile())
	}
	for _, q := range []string{"UPDATE storages SET updated_at = 0", "UPDATE schedules SET enabled = 0"} {
		if _, err := e.Store().DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	c, err := e.CheckSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]DamagedRow{}
	for _, d := range c.Damaged {
		rows[d.Table] = d
	}
	if len(c.Damaged) != 2 || rows["storages"].Forgettable || !rows["schedules"].Forgettable {
		t.Fatalf("damaged %+v", c.Damaged)
	}
	if err := c.Err(); !errors.Is(err, store.ErrModified) || !strings.HasPrefix(err.Error(), "2 settings rows were modified outside PgSafe") {
		t.Fatalf("the check's error: %v", err)
	}

	audit.events = nil
	gone, err := e.ForgetDamagedSettings(ctx)
	if err != nil || len(gone) != 1 || gone[0].Table != "schedules" {
		t.Fatalf("forgot %+v, %v", gone, err)
	}
	if audit.actions() != EventForgotDamaged+":ok" || audit.events[0].Fields["rows"] != "1" {
		t.Fatalf("audited %q %v", audit.actions(), audit.events)
	}
	if c, err := e.CheckSettings(ctx); err != nil || len(c.Damaged) != 1 || c.Damaged[0].Table != "storages" {
		t.Fatalf("after forgetting: %+v, %v", c, err)
	}
	if _, err := e.Schedule(ctx, "shop"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the damaged schedule is still read: %v", err)
	}
}
