package restore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// rolesSource gives a server roles that own objects in two databases, a
// NOLOGIN group with grants, default privileges, a policy and a role with a
// password.
func rolesSource(t *testing.T, p *testenv.PG) {
	t.Helper()
	p.Exec(t, "postgres", `CREATE ROLE app_owner LOGIN PASSWORD 'owner-pw-77';
		CREATE ROLE reporting NOLOGIN;
		CREATE ROLE readers NOLOGIN;
		CREATE ROLE "Audit Team" NOLOGIN;
		GRANT readers TO reporting;`)
	p.CreateDB(t, "shop")
	p.Exec(t, "shop", `CREATE SCHEMA app AUTHORIZATION app_owner;
		CREATE TABLE app.orders (id int PRIMARY KEY, total numeric);
		INSERT INTO app.orders SELECT g, g * 2 FROM generate_series(1, 1200) g;
		ALTER TABLE app.orders OWNER TO app_owner;
		GRANT SELECT ON app.orders TO readers;
		GRANT SELECT (id), UPDATE (total) ON app.orders TO "Audit Team";
		ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app GRANT SELECT ON TABLES TO readers;
		CREATE FUNCTION app.double(x int) RETURNS int LANGUAGE sql AS 'SELECT x * 2';
		ALTER FUNCTION app.double(int) OWNER TO app_owner;
		REVOKE ALL ON FUNCTION app.double(int) FROM PUBLIC;
		GRANT EXECUTE ON FUNCTION app.double(int) TO readers;
		ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
		CREATE POLICY readers_see_small ON app.orders TO readers USING (total < 1000);`)
	p.CreateDB(t, "crm")
	p.Exec(t, "crm", `CREATE TABLE leads (id int PRIMARY KEY, name text);
		INSERT INTO leads SELECT g, 'lead ' || g FROM generate_series(1, 300) g;
		ALTER TABLE leads OWNER TO reporting;
		CREATE VIEW lead_names AS SELECT name FROM leads;
		ALTER VIEW lead_names OWNER TO app_owner;
		GRANT SELECT ON leads, lead_names TO readers;`)
}

// Done-when of issue 16 (roles): restored into a second, empty cluster with
// the roles created from the ones saved with the backup, both databases dump
// to the same schema, owners and grants included, with the same rows; the
// same server keeps owners by default; a role map gives objects and grants
// to other roles.
func TestRolesSurviveARestore(t *testing.T) {
	ctx := context.Background()
	clients := pgtools.Discover(ctx)
	client, err := pgtools.Pick(clients, testenv.DebianPGMajor)
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	kr := keys.Keys{key}
	src, dst := testenv.Postgres(t), testenv.Postgres(t)
	rolesSource(t, src)
	shop, crm := backUpDB(t, src, "shop", key, clients), backUpDB(t, src, "crm", key, clients)
	to := func(p *testenv.PG, db string) pgtools.Conn {
		return pgtools.Conn{Host: p.Host, Port: p.Port, Database: db, User: p.User, Password: p.Password, SSLMode: "disable", AllowWrite: true}
	}

	t.Run("missing roles are named before anything is written", func(t *testing.T) {
		_, err := Restore(ctx, shop.store, shop.m, kr, client.PgRestore, to(dst, "shop"), Options{Mode: ModeNew})
		var rp *RolesProblem
		if !errors.As(err, &rp) || !slices.Equal(rp.Missing, []string{"Audit Team", "app_owner", "readers"}) ||
			!slices.Equal(rp.Creatable, rp.Missing) || len(rp.CannotOwn) != 0 {
			t.Fatalf("Restore into an empty cluster = %v (%+v)", err, rp)
		}
		if !strings.HasPrefix(err.Error(), "3 roles the backup needs are missing on the target server: Audit Team, app_owner, readers.") &&
			!strings.HasPrefix(err.Error(), "3 roles the backup needs are missing on the target server: Audit Team, app_owner, readers;") {
			t.Errorf("words: %s", err)
		}
		if dbs := allDatabases(t, dst); slices.Contains(dbs, "shop") {
			t.Fatalf("a refused restore created the database: %v", dbs)
		}
		if r := column(t, dst.Conn(t, "postgres"), "SELECT rolname FROM pg_roles WHERE rolname IN ('app_owner', 'readers')"); len(r) != 0 {
			t.Fatalf("a refused restore created roles %v", r)
		}
	})

	t.Run("create the roles: identical schema, owners and grants, and rows", func(t *testing.T) {
		for _, b := range []struct {
			f      *fixture
			db     string
			create []string
		}{{shop, "shop", []string{"Audit Team", "app_owner", "readers"}}, {crm, "crm", []string{"reporting"}}} {
			res, err := Restore(ctx, b.f.store, b.f.m, kr, client.PgRestore, to(dst, b.db), Options{Mode: ModeNew, CreateRoles: true})
			if err != nil {
				t.Fatalf("restore %s with the roles created: %v", b.db, err)
			}
			if !slices.Equal(res.RolesCreated, b.create) || res.IgnoredErrors != 0 || !res.Rows.Match() {
				t.Fatalf("restore %s: created %q, %d errors %q, rows %+v", b.db, res.RolesCreated, res.IgnoredErrors, res.Warnings, res.Rows)
			}
			if want, got := dumpSchema(t, client, src, b.db), dumpSchema(t, client, dst, b.db); want != got {
				t.Fatalf("%s restored into the second cluster dumps to another schema:\n%s", b.db, lineDiff(want, got))
			} else if !strings.Contains(got, "OWNER TO app_owner") || !strings.Contains(got, "TO readers") {
				t.Fatalf("the schema lacks the owners and grants it is meant to compare:\n%s", got)
			}
		}
		c := dst.Conn(t, "postgres")
		roles := column(t, c, `SELECT rolname || ' login=' || rolcanlogin || ' password=' || (rolpassword IS NOT NULL)
			FROM pg_authid WHERE rolname IN ('app_owner', 'reporting', 'readers', 'Audit Team') ORDER BY 1`)
		want := []string{"Audit Team login=false password=false", "app_owner login=false password=false",
			"readers login=false password=false", "reporting login=false password=false"}
		if !slices.Equal(roles, want) {
			t.Errorf("created roles %q, want %q", roles, want)
		}
		if m := column(t, c, `SELECT pg_has_role('reporting', 'readers', 'MEMBER')::text`); !slices.Equal(m, []string{"true"}) {
			t.Errorf("reporting is not a member of readers on the second cluster")
		}
		for _, db := range []string{"shop", "crm"} {
			q := "SELECT n.nspname || '.' || c.relname || '=' || count(*) OVER () FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
			if w, g := column(t, src.Conn(t, db), q), column(t, dst.Conn(t, db), q); !slices.Equal(w, g) {
				t.Errorf("%s tables: %v, restored %v", db, w, g)
			}
		}
	})

	t.Run("the same server keeps owners by default", func(t *testing.T) {
		res, err := Restore(ctx, shop.store, shop.m, kr, client.PgRestore, to(src, "shop_copy"), Options{Mode: ModeNew})
		if err != nil || res.NoOwner || len(res.RolesCreated) != 0 || !res.Rows.Match() {
			t.Fatalf("restore to the same server = %+v, %v", res, err)
		}
		if want, got := dumpSchema(t, client, src, "shop"), dumpSchema(t, client, src, "shop_copy"); want != got {
			t.Fatalf("the copy on the same server dumps to another schema:\n%s", lineDiff(want, got))
		}
	})

	t.Run("a role map gives objects and grants to other roles", func(t *testing.T) {
		dst.Exec(t, "postgres", `CREATE ROLE shop_admin NOLOGIN; CREATE ROLE "Shop Readers" NOLOGIN`)
		roleMap := map[string]string{"app_owner": "shop_admin", "readers": "Shop Readers"}
		_, err := Restore(ctx, shop.store, shop.m, kr, client.PgRestore, to(dst, "shop_mapped"),
			Options{Mode: ModeNew, RoleMap: map[string]string{"app_owner": "nobody_here"}})
		var rp *RolesProblem
		if !errors.As(err, &rp) || !slices.Equal(rp.MapTargets, []string{"nobody_here"}) {
			t.Fatalf("a map to a missing role = %v (%+v)", err, rp)
		}
		res, err := Restore(ctx, shop.store, shop.m, kr, client.PgRestore, to(dst, "shop_mapped"), Options{Mode: ModeNew, RoleMap: roleMap})
		if err != nil || res.IgnoredErrors != 0 || !res.Rows.Match() {
			t.Fatalf("restore with a role map = %+v, %v", res, err)
		}
		want := dumpSchema(t, client, src, "shop")
		want = strings.ReplaceAll(want, "app_owner", "shop_admin")
		want = strings.ReplaceAll(want, "TO readers", `TO "Shop Readers"`)
		want = strings.ReplaceAll(want, "FROM readers", `FROM "Shop Readers"`)
		got := dumpSchema(t, client, dst, "shop_mapped")
		if want != got {
			t.Fatalf("the mapped restore dumps to another schema than the source with the roles renamed:\n%s", lineDiff(want, got))
		}
	})
}
