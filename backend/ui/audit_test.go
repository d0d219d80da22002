package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/paths"
)

// TestActivityList: the Activity screen's entries come with their sentence,
// kind and database, and the filters by database, kind and outcome (failed:
// anything that did not go well) keep exactly the entries they name, over
// a real engine and its audit log.
func TestActivityList(t *testing.T) {
	testenv.Keychain(t)
	t.Setenv(paths.EnvHome, t.TempDir())
	c := NewCore(nil)
	c.SetEmitter(func(string, any) {})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	e, err := c.engine()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ev := range []engine.Event{
		{Action: "database.created", Target: "Shop", Fields: map[string]string{"id": "1", "checked": "true", "verdict": "read_only"}},
		{Action: "database.created", Target: "Blog", Fields: map[string]string{"id": "2", "checked": "true", "verdict": "read_only"}},
		{Action: "backup.failed", Outcome: "failed", Target: "Shop", Fields: map[string]string{"backup_id": "0b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b", "origin": "scheduled"},
			Message: `backup of Shop: snapshot session: cannot connect to 127.0.0.1:5432/shop as "b": the server refused the password: check the user name and password (server said: password authentication failed)`},
		{Action: "backup.finished", Outcome: "partial", Target: "Blog", Fields: map[string]string{"backup_id": "1b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b", "stored_size": "34800000", "storages": "1"}, Message: "storage NAS: full"},
		{Action: "schedule.paused", Target: "schedules", Fields: map[string]string{"until": "resumed"}},
	} {
		if err := e.RecordEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	s := NewAuditService(c)
	list := func(f AuditFilter) []ActivityEntry {
		t.Helper()
		got, err := s.List(f)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := list(AuditFilter{})
	if len(all) < 7 { // genesis, key created, app started, and the five above
		t.Fatalf("%d entries", len(all))
	}
	for _, a := range all {
		if a.Sentence == "" || a.Kind == "" || strings.Contains(a.Sentence, a.Action) {
			t.Errorf("entry %d (%s): sentence %q, kind %q", a.Seq, a.Action, a.Sentence, a.Kind)
		}
	}
	if all[0].Sentence != "Paused scheduled backups until resumed" {
		t.Errorf("newest first: %q", all[0].Sentence)
	}

	shop := list(AuditFilter{Database: "Shop"})
	if len(shop) != 2 || shop[0].Sentence != "Backup of Shop failed: the server refused the password: check the user name and password (scheduled)" ||
		shop[1].Sentence != "Added database Shop (read-only ✓)" {
		t.Errorf("Shop's entries: %+v", shop)
	}
	failed := list(AuditFilter{Outcome: "failed"})
	if len(failed) != 2 || failed[0].Database != "Blog" || failed[0].Outcome != "partial" || failed[1].Database != "Shop" {
		t.Errorf("failed entries (partial included): %+v", failed)
	}
	if ok := list(AuditFilter{Outcome: "ok", Database: "Shop"}); len(ok) != 1 || ok[0].Action != "database.created" {
		t.Errorf("Shop's ok entries: %+v", ok)
	}
	backups := list(AuditFilter{Kind: "backups"})
	if len(backups) != 2 || backups[0].Action != "backup.finished" || backups[1].Action != "backup.failed" {
		t.Errorf("backups: %+v", backups)
	}
	security := list(AuditFilter{Kind: "security"})
	if len(security) == 0 || security[len(security)-1].Sentence != "The activity log began" {
		t.Errorf("security: %+v", security)
	}
	if page := list(AuditFilter{Kind: "settings", Limit: 1, Offset: 1}); len(page) != 1 || page[0].Target != "Blog" {
		t.Errorf("second settings entry: %+v", page)
	}
}
