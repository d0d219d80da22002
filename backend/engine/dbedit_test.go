package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/status"
	"github.com/pgsafe/pgsafe/backend/store"
)

// A role's password changed on the server: the wrong one is refused with
// the server's reason and nothing changes; the right one is stored and a
// backup works again. Then a rename keeps everything keyed by the database.
func TestEditDatabase(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv, _, _ := shopOnNAS(t, e, 10)
	srv.Exec(t, "shop", `ALTER ROLE reader PASSWORD 'reader-pw-new-77'`)
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err == nil {
		t.Fatal("a backup with the old password succeeded")
	}
	before, err := e.store.DatabaseByName(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}

	conn := func(pw string) *DatabaseInput {
		return &DatabaseInput{Host: before.Host, Port: before.Port, DBName: before.DBName, User: before.User, Password: pw, SSLMode: before.SSLMode}
	}
	_, err = e.UpdateDatabase(ctx, "shop", DatabaseEdit{Connection: conn("wrong-pw")}, EditOptions{})
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || !strings.Contains(err.Error(), "not saved") {
		t.Fatalf("a wrong password: %v", err)
	}
	_, c, err := e.database(ctx, "shop")
	if err != nil || c.Password.Reveal() != "reader-pw-31" {
		t.Fatalf("after a refused edit the stored password changed (%v)", err)
	}
	if chk, err := e.CheckDatabaseChange(ctx, "shop", *conn("reader-pw-new-77")); err != nil || chk.Report.Verdict == pg.VerdictWriteAccess {
		t.Fatalf("CheckDatabaseChange = %+v, %v", chk, err)
	}
	res, err := e.UpdateDatabase(ctx, "shop", DatabaseEdit{Connection: conn("reader-pw-new-77")}, EditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Changed, []string{"password"}) || res.Report == nil || res.Server == nil {
		t.Fatalf("edit result %+v", res)
	}
	if b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil || b.Status != store.StatusSucceeded {
		t.Fatalf("backup with the new password: %+v, %v", b, err)
	}
	// The same connection again, password left empty: nothing changes,
	// nothing is audited, the stored password stays.
	n := len(audit.events)
	if res, err := e.UpdateDatabase(ctx, "shop", DatabaseEdit{Connection: conn("")}, EditOptions{}); err != nil || len(res.Changed) != 0 {
		t.Fatalf("an unchanged connection: %+v, %v", res, err)
	}
	if len(audit.events) != n {
		t.Fatalf("an edit that changed nothing was audited: %s", audit.actions())
	}

	// Rename: the schedule, drill policy and history follow.
	if err := e.SetSchedule(ctx, "shop", store.ScheduleConfig{Enabled: true, Kind: store.ScheduleDaily, At: "02:30", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetDrillPolicy(ctx, "shop", DrillPolicy{EveryBackups: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateDatabase(ctx, store.DatabaseConfig{Name: "Other", Host: "localhost", Port: 5432, DBName: "x", User: "u"}); err != nil {
		t.Fatal(err)
	}
	var conflict *store.ConflictError
	if _, err := e.UpdateDatabase(ctx, "shop", DatabaseEdit{Name: "other"}, EditOptions{}); !errors.As(err, &conflict) {
		t.Fatalf("renaming onto another database's name: %v", err)
	}
	off := false
	res, err = e.UpdateDatabase(ctx, "shop", DatabaseEdit{Name: "Shop main", CountRows: &off}, EditOptions{})
	if err != nil || res.Name != "Shop main" || !slices.Equal(res.Changed, []string{"name", "count_rows"}) {
		t.Fatalf("rename: %+v, %v", res, err)
	}
	if _, err := e.Backups(ctx, "shop", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the old name still found: %v", err)
	}
	hist, err := e.Backups(ctx, "Shop main", 0)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history after the rename: %d backups, %v", len(hist), err)
	}
	if sc, err := e.Schedule(ctx, "Shop main"); err != nil || sc.Schedule.At != "02:30" {
		t.Fatalf("schedule after the rename: %+v, %v", sc, err)
	}
	if p, err := e.DrillPolicy(ctx, "Shop main"); err != nil || p.EveryBackups != 3 {
		t.Fatalf("drill policy after the rename: %+v, %v", p, err)
	}
	if d, err := e.store.DatabaseByName(ctx, "Shop main"); err != nil || d.CountRows {
		t.Fatalf("row counts after switching them off: %+v, %v", d, err)
	}

	var changed []Event
	for _, ev := range audit.events {
		if ev.Action == "database.changed" {
			changed = append(changed, ev)
		}
		for k, v := range ev.Fields {
			if strings.Contains(v, "reader-pw") {
				t.Fatalf("audit field %s holds a password", k)
			}
		}
	}
	if len(changed) != 2 || changed[0].Fields["fields"] != "password" || changed[0].Fields["verdict"] == "" ||
		changed[1].Target != "Shop main" || changed[1].Fields["renamed_from"] != "shop" || changed[1].Fields["fields"] != "name,count_rows" {
		t.Fatalf("database.changed events: %+v", changed)
	}
}

// The status follows the newest privilege check: write access found by a
// re-check makes the database failing; write access the user accepted when
// changing the connection is a note (attention), and refused without it.
func TestRecheckWriteAccess(t *testing.T) {
	e, audit := newEngine(t)
	ctx := context.Background()
	srv, _, _ := shopOnNAS(t, e, 5)
	if _, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil {
		t.Fatal(err)
	}
	reasons := func() (status.State, []string) {
		t.Helper()
		o, err := e.Status(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, r := range o.Databases[0].Reasons {
			codes = append(codes, r.Code)
		}
		return o.Databases[0].State, codes
	}
	if st, codes := reasons(); st == status.Failing || slices.Contains(codes, status.CodeWriteFound) || slices.Contains(codes, status.CodeWriteAccess) {
		t.Fatalf("a read-only role: %s %v", st, codes)
	}

	srv.Exec(t, "shop", `GRANT INSERT ON orders TO reader`)
	chk, err := e.CheckDatabase(ctx, "shop")
	if err != nil || chk.Report.Verdict != pg.VerdictWriteAccess {
		t.Fatalf("re-check after a GRANT: %+v, %v", chk, err)
	}
	if st, codes := reasons(); st != status.Failing || !slices.Contains(codes, status.CodeWriteFound) {
		t.Fatalf("write access found: %s %v", st, codes)
	}
	srv.Exec(t, "shop", `REVOKE INSERT ON orders FROM reader`)
	if _, err := e.CheckDatabase(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if st, codes := reasons(); st == status.Failing || slices.Contains(codes, status.CodeWriteFound) {
		t.Fatalf("read-only again: %s %v", st, codes)
	}

	// Switch to the superuser: refused unless accepted.
	admin := &DatabaseInput{URL: srv.URL("shop")}
	var wa *WriteAccessError
	if _, err := e.UpdateDatabase(ctx, "shop", DatabaseEdit{Connection: admin}, EditOptions{}); !errors.As(err, &wa) {
		t.Fatalf("a superuser without acceptance: %v", err)
	}
	if _, c, _ := e.database(ctx, "shop"); c.User != "reader" {
		t.Fatalf("a refused edit changed the user to %s", c.User)
	}
	res, err := e.UpdateDatabase(ctx, "shop", DatabaseEdit{Connection: admin}, EditOptions{AllowWriteAccess: true})
	if err != nil || res.Report.Verdict != pg.VerdictWriteAccess {
		t.Fatalf("accepted write access: %+v, %v", res, err)
	}
	if st, codes := reasons(); st != status.Attention || !slices.Contains(codes, status.CodeWriteAccess) || slices.Contains(codes, status.CodeWriteFound) {
		t.Fatalf("accepted write access: %s %v", st, codes)
	}
	// A re-check that still finds it keeps the acceptance.
	if _, err := e.CheckDatabase(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if st, codes := reasons(); st != status.Attention || !slices.Contains(codes, status.CodeWriteAccess) {
		t.Fatalf("re-checked accepted write access: %s %v", st, codes)
	}
	want := "database.checked:ok,database.checked:ok,database.write_access_refused:denied,database.changed:ok,database.write_access_accepted:ok,database.checked:ok"
	if got := audit.actions(); !strings.HasSuffix(got, want) {
		t.Fatalf("audited %s\nwant ending %s", got, want)
	}

	// "Switch to a read-only role": created with the admin URL, used at once.
	setup, edit, err := e.SwitchToReadOnlyRole(ctx, "shop", srv.URL("shop"), "pgsafe_ro", pg.SetupOptions{})
	if err != nil || edit.Report.Verdict == pg.VerdictWriteAccess || !slices.Contains(edit.Changed, "user") {
		t.Fatalf("switch to a read-only role: %+v %+v, %v", setup, edit, err)
	}
	if _, c, _ := e.database(ctx, "shop"); c.User != "pgsafe_ro" || c.Password.Reveal() != setup.Password.Reveal() {
		t.Fatalf("after the switch the database connects as %s", c.User)
	}
	if st, codes := reasons(); slices.Contains(codes, status.CodeWriteAccess) || st == status.Failing {
		t.Fatalf("after the switch: %s %v", st, codes)
	}
	if b, err := e.BackupNow(ctx, "shop", store.OriginManual, nil); err != nil || b.Status != store.StatusSucceeded {
		t.Fatalf("a backup as the new role: %+v, %v", b, err)
	}
}
