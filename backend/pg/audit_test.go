package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pgsafe/pgsafe/backend/internal/testenv"
)

const rolePassword = "matrix-role-pw-7781"

// auditCase is one role of the matrix and what the audit must say of it.
type auditCase struct {
	role     string
	db       string // default appdb
	minMajor int    // 0: any
	verdict  func(major int) Verdict
	codes    func(major int) []string // findings' codes; large_object_create (info) is added for non-superusers
	objects  map[string]string        // code → the finding's object
	fixHas   map[string]string        // code → a part of its fix_sql
	missing  []string                 // missing_read objects
}

func always(v Verdict) func(int) Verdict   { return func(int) Verdict { return v } }
func codes(c ...string) func(int) []string { return func(int) []string { return c } }
func readers(role string) string           { return "GRANT readers TO " + role + ";" }
func roleSQL(name, attrs string) string {
	return fmt.Sprintf("CREATE ROLE %s LOGIN %s PASSWORD '%s';", name, attrs, rolePassword)
}

// directReads grants role what readers has, directly (for NOINHERIT roles).
func directReads(role string, except ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA shop TO %s; GRANT SELECT ON ALL SEQUENCES IN SCHEMA shop TO %s;", role, role)
	for _, t := range []string{"shop.orders", "shop.customers", "shop.secret", "public.t_owned"} {
		if !slices.Contains(except, t) {
			fmt.Fprintf(&b, " GRANT SELECT ON %s TO %s;", t, role)
		}
	}
	if !slices.Contains(except, "lo") {
		fmt.Fprintf(&b, " GRANT SELECT ON LARGE OBJECT 424242 TO %s;", role)
	}
	return b.String()
}

// setupMatrix creates the roles (global) and databases appdb (the
// application: schema shop owned by app), tempdb (PostgreSQL's default
// TEMPORARY for PUBLIC) and rlsdb (a table with row-level security).
func setupMatrix(t *testing.T, p *testenv.PG) {
	for _, db := range []string{"appdb", "tempdb", "rlsdb"} {
		p.CreateDB(t, db)
	}
	var roles strings.Builder
	roles.WriteString(`CREATE ROLE app NOLOGIN; CREATE ROLE readers NOLOGIN; CREATE ROLE writers NOLOGIN;
		CREATE ROLE fnowner NOLOGIN; CREATE ROLE admins NOLOGIN SUPERUSER; CREATE ROLE bulkloaders NOLOGIN;`)
	for _, r := range []struct{ name, attrs string }{
		{"r_super", "SUPERUSER"}, {"r_createdb", "CREATEDB"}, {"r_createrole", "CREATEROLE"},
		{"r_replication", "REPLICATION"}, {"r_bypassrls", "BYPASSRLS"}, {"r_noinherit", "NOINHERIT"},
		{"r_write_all", ""}, {"r_write_all_group", ""}, {"r_owner", ""}, {"r_colupdate", ""}, {"r_group_insert", ""},
		{"r_seq", ""}, {"r_secdef", ""}, {"r_temp", ""}, {"r_schema_create", ""}, {"r_clean", ""}, {"r_clean_rad", ""},
		{"r_missing", ""}, {"r_lo_write", ""}, {"r_lo_missing", ""}, {"r_lo_compat", ""}, {"r_db_create", ""},
		{"r_references", ""}, {"r_trigger", ""}, {"r_setrole_super", ""}, {"r_rls", ""}, {"r_maintain", ""},
		{"r_useless_grant", ""}, {"r_inherit_super", ""},
	} {
		roles.WriteString(roleSQL(r.name, r.attrs))
	}
	p.Exec(t, "postgres", roles.String())

	p.Exec(t, "appdb", `
		REVOKE TEMPORARY ON DATABASE appdb FROM PUBLIC;
		REVOKE CREATE ON SCHEMA public FROM PUBLIC;
		CREATE SCHEMA shop AUTHORIZATION app;
		SET ROLE app;
		CREATE TABLE shop.orders (id serial PRIMARY KEY, note text, amount int);
		CREATE TABLE shop.customers (id int PRIMARY KEY, name text);
		CREATE TABLE shop.secret (id int);
		SELECT lo_from_bytea(424242, 'large object data');
		CREATE FUNCTION shop.bump() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'UPDATE shop.orders SET amount = amount + 1';
		RESET ROLE;
		REVOKE EXECUTE ON FUNCTION shop.bump() FROM PUBLIC;
		CREATE TABLE public.t_owned (id int);
		ALTER TABLE public.t_owned OWNER TO r_owner;
		-- a SECURITY DEFINER function every role can run, owned by a role that only reads: harmless
		CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user';
		GRANT SELECT ON shop.customers TO fnowner;
		GRANT USAGE ON SCHEMA shop TO fnowner;
		ALTER FUNCTION public.whoami() OWNER TO fnowner;
		GRANT USAGE ON SCHEMA shop TO readers;
		GRANT SELECT ON ALL TABLES IN SCHEMA shop, public TO readers;
		GRANT SELECT ON ALL SEQUENCES IN SCHEMA shop, public TO readers;
		GRANT SELECT ON LARGE OBJECT 424242 TO readers;
		GRANT INSERT ON shop.orders TO writers;
	`+
		// The roles' grants.
		readers("r_createdb")+readers("r_createrole")+readers("r_replication")+readers("r_bypassrls")+
		directReads("r_noinherit")+"GRANT app TO r_noinherit;"+
		readers("r_owner")+
		readers("r_colupdate")+"GRANT UPDATE (note) ON shop.orders TO r_colupdate;"+
		readers("r_group_insert")+"GRANT writers TO r_group_insert;"+
		readers("r_seq")+"GRANT UPDATE ON SEQUENCE shop.orders_id_seq TO r_seq;"+
		readers("r_secdef")+"GRANT EXECUTE ON FUNCTION shop.bump() TO r_secdef;"+
		readers("r_schema_create")+"GRANT CREATE ON SCHEMA shop TO r_schema_create;"+
		readers("r_clean")+
		directReads("r_missing", "shop.secret")+
		readers("r_lo_write")+"GRANT UPDATE ON LARGE OBJECT 424242 TO r_lo_write;"+
		directReads("r_lo_missing", "lo")+
		readers("r_lo_compat")+"ALTER ROLE r_lo_compat SET lo_compat_privileges = on;"+
		readers("r_db_create")+"GRANT CREATE ON DATABASE appdb TO r_db_create;"+
		readers("r_references")+"GRANT REFERENCES ON shop.customers TO r_references;"+
		readers("r_trigger")+"GRANT TRIGGER ON shop.customers TO r_trigger;"+
		readers("r_setrole_super")+"GRANT admins TO r_setrole_super;"+
		"GRANT r_write_all TO readers;"[:0], // (placeholder kept empty)
	)
	if p.Major >= 14 {
		p.Exec(t, "appdb", readers("r_write_all")+"GRANT pg_write_all_data TO r_write_all;"+
			readers("r_write_all_group")+"GRANT pg_write_all_data TO bulkloaders; GRANT bulkloaders TO r_write_all_group;"+
			"GRANT pg_read_all_data TO r_clean_rad; GRANT SELECT ON LARGE OBJECT 424242 TO r_clean_rad;")
	}
	if p.Major >= 16 {
		p.Exec(t, "appdb", readers("r_useless_grant")+"GRANT app TO r_useless_grant WITH INHERIT FALSE, SET FALSE;"+
			readers("r_inherit_super")+"GRANT admins TO r_inherit_super WITH INHERIT TRUE, SET FALSE;")
	}
	if p.Major >= 17 {
		p.Exec(t, "appdb", readers("r_maintain")+"GRANT pg_maintain TO r_maintain;")
	}
	public13 := ""
	if p.Major < 15 {
		public13 = "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
	}
	p.Exec(t, "tempdb", public13)
	p.Exec(t, "rlsdb", public13+`REVOKE TEMPORARY ON DATABASE rlsdb FROM PUBLIC;
		CREATE TABLE public.private (id int, owner text);
		ALTER TABLE public.private ENABLE ROW LEVEL SECURITY;
		CREATE POLICY mine ON public.private USING (owner = current_user);
		GRANT SELECT ON public.private TO r_rls;`)
}

var auditCases = []auditCase{
	{role: "r_super", verdict: always(VerdictWriteAccess), codes: codes(CodeSuperuser), objects: map[string]string{CodeSuperuser: "role r_super"},
		fixHas: map[string]string{CodeSuperuser: "GRANT CONNECT ON DATABASE appdb TO pgsafe_backup;"}},
	{role: "r_createdb", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(CodeCreateDB), fixHas: map[string]string{CodeCreateDB: "ALTER ROLE r_createdb NOCREATEDB;"}},
	{role: "r_createrole", verdict: func(m int) Verdict {
		if m < 16 {
			return VerdictWriteAccess
		}
		return VerdictReadOnlyWithWarnings
	}, codes: codes(CodeCreateRole)},
	{role: "r_replication", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(CodeReplication)},
	{role: "r_bypassrls", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(CodeBypassRLS)},
	{role: "r_write_all", minMajor: 14, verdict: always(VerdictWriteAccess), codes: codes(CodeMemberOfWriteAll),
		fixHas: map[string]string{CodeMemberOfWriteAll: "REVOKE pg_write_all_data FROM r_write_all;"}},
	{role: "r_write_all_group", minMajor: 14, verdict: always(VerdictWriteAccess), codes: codes(CodeMemberOfWriteAll),
		fixHas: map[string]string{CodeMemberOfWriteAll: "REVOKE pg_write_all_data FROM bulkloaders;"}},
	{role: "r_noinherit", verdict: always(VerdictWriteAccess), codes: codes(CodeCanSetRoleWriter),
		objects: map[string]string{CodeCanSetRoleWriter: "role app"}, fixHas: map[string]string{CodeCanSetRoleWriter: "REVOKE app FROM r_noinherit;"}},
	{role: "r_owner", verdict: always(VerdictWriteAccess), codes: codes(CodeTableOwner),
		objects: map[string]string{CodeTableOwner: "table public.t_owned"}, fixHas: map[string]string{CodeTableOwner: "ALTER TABLE public.t_owned OWNER TO"}},
	{role: "r_colupdate", verdict: always(VerdictWriteAccess), codes: codes(CodeColumnWrite),
		objects: map[string]string{CodeColumnWrite: "table shop.orders"}, fixHas: map[string]string{CodeColumnWrite: "REVOKE UPDATE (note) ON TABLE shop.orders FROM r_colupdate;"}},
	{role: "r_group_insert", verdict: always(VerdictWriteAccess), codes: codes(CodeMemberOfWriter),
		objects: map[string]string{CodeMemberOfWriter: "role writers"}, fixHas: map[string]string{CodeMemberOfWriter: "REVOKE writers FROM r_group_insert;"}},
	{role: "r_seq", verdict: always(VerdictWriteAccess), codes: codes(CodeSequenceWrite),
		objects: map[string]string{CodeSequenceWrite: "sequence shop.orders_id_seq"}, fixHas: map[string]string{CodeSequenceWrite: "REVOKE UPDATE ON SEQUENCE shop.orders_id_seq FROM r_seq;"}},
	{role: "r_secdef", verdict: always(VerdictWriteAccess), codes: codes(CodeSecurityDefiner),
		objects: map[string]string{CodeSecurityDefiner: "function shop.bump()"}},
	// TEMPORARY only through PUBLIC's default: a note (info), not a warning.
	{role: "r_temp", db: "tempdb", verdict: always(VerdictReadOnly), codes: codes(CodeDatabaseTemp),
		objects: map[string]string{CodeDatabaseTemp: "database tempdb"}, fixHas: map[string]string{CodeDatabaseTemp: "REVOKE TEMPORARY ON DATABASE tempdb FROM PUBLIC;"}},
	{role: "r_schema_create", verdict: always(VerdictWriteAccess), codes: codes(CodeSchemaCreate),
		objects: map[string]string{CodeSchemaCreate: "schema shop"}},
	{role: "r_clean", verdict: always(VerdictReadOnly), codes: codes()},
	{role: "r_clean_rad", minMajor: 14, verdict: always(VerdictReadOnly), codes: codes(CodeMemberOfReadAll)},
	{role: "r_missing", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(), missing: []string{"table shop.secret"}},
	{role: "r_lo_write", verdict: always(VerdictWriteAccess), codes: codes(CodeLargeObjectWrite),
		objects: map[string]string{CodeLargeObjectWrite: "large object 424242"}},
	{role: "r_lo_missing", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(), missing: []string{"large object 424242"}},
	{role: "r_lo_compat", verdict: always(VerdictWriteAccess), codes: codes(CodeLOCompatPrivileges)},
	{role: "r_db_create", verdict: always(VerdictWriteAccess), codes: codes(CodeDatabaseCreate)},
	{role: "r_references", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(CodeTableReferences)},
	{role: "r_trigger", verdict: always(VerdictWriteAccess), codes: codes(CodeTableWrite),
		fixHas: map[string]string{CodeTableWrite: "REVOKE TRIGGER ON TABLE shop.customers FROM r_trigger;"}},
	{role: "r_setrole_super", verdict: always(VerdictWriteAccess), codes: codes(CodeMemberOfSuperuser),
		objects: map[string]string{CodeMemberOfSuperuser: "role admins"}},
	{role: "r_rls", db: "rlsdb", verdict: always(VerdictReadOnlyWithWarnings), codes: codes(), missing: []string{"table public.private"}},
	{role: "r_maintain", minMajor: 17, verdict: always(VerdictReadOnlyWithWarnings), codes: codes(CodeMemberOfMaintain)},
	{role: "r_useless_grant", minMajor: 16, verdict: always(VerdictReadOnly), codes: codes()},
	{role: "r_inherit_super", minMajor: 16, verdict: always(VerdictReadOnly), codes: codes()},
}

func testAuditMatrix(t *testing.T, p *testenv.PG) {
	setupMatrix(t, p)
	ran := 0
	for _, c := range auditCases {
		if p.Major < c.minMajor {
			continue
		}
		ran++
		t.Run(c.role, func(t *testing.T) {
			t.Parallel()
			db := c.db
			if db == "" {
				db = "appdb"
			}
			ctx := context.Background()
			conn, err := Connect(ctx, clusterConfig(p, db, c.role, rolePassword))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			rep, err := Audit(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.MarshalIndent(rep, "", "  ")
			want := c.codes(p.Major)
			if c.role != "r_super" {
				want = append(want, CodeLargeObjectCreate)
			}
			slices.Sort(want)
			got := slices.Sorted(slices.Values(rep.Codes()))
			if !slices.Equal(got, want) {
				t.Errorf("codes %v, want %v\n%s", got, want, js)
			}
			if v := c.verdict(p.Major); rep.Verdict != v {
				t.Errorf("verdict %s, want %s\n%s", rep.Verdict, v, js)
			}
			var missing []string
			for _, m := range rep.MissingRead {
				missing = append(missing, m.Object)
				if m.FixSQL == "" || m.Detail == "" || m.Privilege == "" {
					t.Errorf("missing_read %+v lacks a field", m)
				}
			}
			if !slices.Equal(missing, c.missing) {
				t.Errorf("missing_read %v, want %v\n%s", missing, c.missing, js)
			}
			for _, f := range rep.Findings {
				if f.Detail == "" || f.Object == "" || (f.Severity != SeverityInfo && f.FixSQL == "") {
					t.Errorf("finding %+v lacks a field", f)
				}
				if removesSuperuser(f) {
					t.Errorf("%s: the fix takes superuser away from a role (it may be the server's only one): %s", f.Code, f.FixSQL)
				}
				if f.Code == CodeDatabaseTemp && strings.Contains(f.Detail, "PUBLIC by default") != (f.Severity == SeverityInfo) {
					t.Errorf("TEMPORARY through PUBLIC must be a note (info), granted otherwise a warning: %+v", f)
				}
				if o, ok := c.objects[f.Code]; ok && f.Object != o {
					t.Errorf("%s: object %q, want %q", f.Code, f.Object, o)
				}
				if s, ok := c.fixHas[f.Code]; ok && !strings.Contains(f.FixSQL, s) {
					t.Errorf("%s: fix_sql %q does not have %q", f.Code, f.FixSQL, s)
				}
			}
			if strings.Contains(string(js), rolePassword) || strings.Contains(string(js), p.Password) {
				t.Errorf("the report shows a password")
			}
			if rep.Role != c.role {
				t.Errorf("Role %q", rep.Role)
			}
			t.Logf("%s: %s %v %v", c.role, rep.Verdict, rep.Codes(), missing)
		})
	}
	if ran < 15 {
		t.Errorf("only %d roles classified on PostgreSQL %d", ran, p.Major)
	}
}

// testAuditFixes runs, as the superuser, the fix_sql of every write and
// warning finding of each matrix role, and then that of every missing_read
// item, auditing again after each: the SQL must be valid and must remove
// what it claims to.
func testAuditFixes(t *testing.T, p *testenv.PG) {
	// Fixes run one at a time: concurrent GRANT/REVOKE on one object fail
	// with "tuple concurrently updated". The audits run in parallel.
	var fixing sync.Mutex
	for _, c := range auditCases {
		if p.Major < c.minMajor {
			continue
		}
		t.Run(c.role, func(t *testing.T) {
			t.Parallel()
			db := c.db
			if db == "" {
				db = "appdb"
			}
			audit := func() Report {
				t.Helper()
				ctx := context.Background()
				conn, err := Connect(ctx, clusterConfig(p, db, c.role, rolePassword))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				rep, err := Audit(ctx, conn)
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			run := func(fix string) {
				t.Helper()
				fixing.Lock()
				defer fixing.Unlock()
				for _, line := range strings.Split(fix, "\n") {
					if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
						p.Exec(t, db, strings.ReplaceAll(line, "new_owner", "postgres"))
					}
				}
			}
			if c.role == "r_super" {
				testSuggestedRole(t, p, db, audit().Findings, run)
				return
			}
			for _, f := range audit().Findings {
				if f.Severity != SeverityInfo {
					run(f.FixSQL)
				}
			}
			rep := audit()
			for _, f := range rep.Findings {
				if f.Severity != SeverityInfo {
					t.Errorf("after its fix: %s %s: %s", f.Code, f.Object, f.FixSQL)
				}
			}
			for _, m := range rep.MissingRead {
				run(m.FixSQL)
			}
			if rep = audit(); len(rep.MissingRead) != 0 {
				t.Errorf("after their fix, still missing: %+v", rep.MissingRead)
			}
		})
	}
}

// removesSuperuser says whether f's fix would take superuser away from an
// existing role (ALTER ROLE … NOSUPERUSER, or any NOSUPERUSER outside the
// CREATE ROLE of the new read-only role).
func removesSuperuser(f Finding) bool {
	for _, line := range strings.Split(f.FixSQL, "\n") {
		if strings.Contains(strings.ToUpper(line), "NOSUPERUSER") && !strings.HasPrefix(line, "CREATE ROLE ") {
			return true
		}
	}
	return strings.Contains(strings.ToUpper(f.Detail), "NOSUPERUSER")
}

// testSuggestedRole runs the superuser finding's fix, the guided setup's
// SQL for a dedicated role, as an administrator would (with a password set
// afterwards, as psql's \password does), and audits the new role: it must be
// read-only, with nothing pg_dump would miss, and the superuser unchanged.
func testSuggestedRole(t *testing.T, p *testenv.PG, db string, findings []Finding, run func(string)) {
	t.Helper()
	if len(findings) != 1 || findings[0].Code != CodeSuperuser {
		t.Fatalf("superuser findings: %+v", findings)
	}
	t.Logf("the superuser's fix:\n%s", findings[0].FixSQL)
	run(findings[0].FixSQL)
	p.Exec(t, "postgres", "ALTER ROLE "+SuggestedRole+" PASSWORD '"+rolePassword+"'")
	ctx := context.Background()
	conn, err := Connect(ctx, clusterConfig(p, db, SuggestedRole, rolePassword))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rep, err := Audit(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictReadOnly || len(rep.MissingRead) != 0 {
		js, _ := json.MarshalIndent(rep, "", "  ")
		t.Errorf("the suggested role: %s, want read_only with nothing missing\n%s", rep.Verdict, js)
	}
	var super bool
	if err := p.Conn(t, db).QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = 'r_super'").Scan(&super); err != nil || !super {
		t.Errorf("r_super is no longer a superuser (%v)", err)
	}
}
