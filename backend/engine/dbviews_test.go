package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
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

func TestVerdictOf(t *testing.T) {
	write := pg.Finding{Code: pg.CodeTableWrite, Severity: pg.SeverityWrite}
	warn := pg.Finding{Code: pg.CodeDatabaseTemp, Severity: pg.SeverityWarning}
	for _, c := range []struct {
		rep  pg.Report
		want RoleVerdict
	}{
		{pg.Report{Verdict: pg.VerdictReadOnly}, RoleVerdict{Words: "read-only ✓", Clean: true}},
		{pg.Report{Verdict: pg.VerdictReadOnlyWithWarnings, Findings: []pg.Finding{warn}}, RoleVerdict{Words: "read-only, with warnings"}},
		{pg.Report{Verdict: pg.VerdictWriteAccess, Findings: []pg.Finding{write, warn, write}},
			RoleVerdict{Words: "HAS WRITE ACCESS ✗", WriteAccess: true, Writes: 2}},
	} {
		if got := VerdictOf(c.rep); got != c.want {
			t.Errorf("verdict %s: %+v, want %+v", c.rep.Verdict, got, c.want)
		}
	}
}

func TestRoleInputSealsThePassword(t *testing.T) {
	o := RoleInput{Password: "new-role-pw-77", PerSchema: true, RevokePublicTemp: true}.Options()
	if o.Password.Reveal() != "new-role-pw-77" || !o.PerSchema || !o.RevokePublicTemp || o.RevokePublicCreate {
		t.Fatalf("options %+v", o)
	}
	if s := fmt.Sprintf("%v %+v %#v", o, o, o); strings.Contains(s, "new-role-pw-77") {
		t.Fatalf("the password prints: %s", s)
	}
	if (RoleInput{}).Options().Password.IsSet() {
		t.Fatal("no password given, yet one is set (PgSafe is to generate it)")
	}
}

// A read-only role as the faces plan and create it: the plan carries the
// new role's password for the face that shows it once (a generated one,
// or the one given, which the SQL holds only as a verifier); a check of a
// connection typed in names it without its password.
func TestRolePlanAndCheckTarget(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	srv := testenv.Postgres(t)
	srv.CreateDB(t, "shop")
	srv.Exec(t, "shop", `CREATE TABLE orders (id int)`)

	plan, err := PlanRole(ctx, srv.URL("shop"), "pgsafe_backup", RoleInput{}.Options())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Password) < 16 || !strings.Contains(plan.SQL, "pgsafe_backup") || strings.Contains(plan.SQL, plan.Password) {
		t.Fatalf("a generated password %d long; SQL holds it: %v", len(plan.Password), strings.Contains(plan.SQL, plan.Password))
	}
	if b, _ := json.Marshal(plan); strings.Contains(string(b), plan.Password) {
		t.Fatalf("the plan's JSON holds the password: %s", b)
	}

	res, err := e.SetupReadOnlyRole(ctx, srv.URL("shop"), "pgsafe_backup", RoleInput{Password: "given-role-pw-5150"}.Options(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := res.RolePlan()
	if ran.Password != "given-role-pw-5150" || ran.SQL != res.SQL || ran.Role != "pgsafe_backup" || strings.Contains(ran.SQL, ran.Password) {
		t.Fatalf("what ran: role %q, password given kept %v, SQL as recorded %v", ran.Role, ran.Password == "given-role-pw-5150", ran.SQL == res.SQL)
	}
	if VerdictOf(res.Report).WriteAccess {
		t.Fatalf("the new role can write: %+v", res.Report)
	}

	url := strings.Replace(srv.URL("shop"), srv.User+":"+srv.Password, "pgsafe_backup:given-role-pw-5150", 1)
	chk, err := CheckInput(ctx, DatabaseInput{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("pgsafe_backup@%s:%d/shop", srv.Host, srv.Port)
	if chk.Target != want || VerdictOf(chk.Report).WriteAccess {
		t.Fatalf("check target %q (want %q), verdict %s", chk.Target, want, chk.Report.Verdict)
	}
}
