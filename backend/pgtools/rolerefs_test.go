package pgtools

import (
	"slices"
	"strings"
	"testing"
)

// schemaSQL is what `pg_restore --schema-only -f -` prints for owners,
// grants, default privileges, policies and a grant by another grantor,
// around a function body and strings that look like the same statements.
const schemaSQL = `--
-- PostgreSQL database dump
--

\restrict abc123

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA s;
ALTER SCHEMA s OWNER TO app;
CREATE FUNCTION s.f() RETURNS text
    LANGUAGE sql
    AS $_$SELECT 'ALTER TABLE x OWNER TO ghost; GRANT ALL ON x TO ghost2;'$_$;
ALTER FUNCTION s.f() OWNER TO "App Owner";
CREATE TABLE public."OWNER" (
    "to" integer DEFAULT 1,
    note text DEFAULT 'GRANT SELECT ON t TO nobody; it''s fine'
);
ALTER TABLE public."OWNER" OWNER TO app;
COMMENT ON TABLE public."OWNER" IS E'owner\'s table; ALTER x OWNER TO ghost3';
CREATE POLICY p ON public."OWNER" TO readers, "Odd ""Role""" USING (("to" > 0));
GRANT SELECT ON TABLE public."OWNER" TO readers;
GRANT SELECT("to"),UPDATE("to") ON TABLE public."OWNER" TO "Odd ""Role""" WITH GRANT OPTION;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO PUBLIC;
ALTER SCHEMA public OWNER TO pg_database_owner;
ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT SELECT ON TABLES  TO readers;
ALTER DEFAULT PRIVILEGES FOR ROLE app REVOKE ALL ON FUNCTIONS  FROM PUBLIC;
SET SESSION AUTHORIZATION granter;
GRANT INSERT ON TABLE public."OWNER" TO writers;
RESET SESSION AUTHORIZATION;

\unrestrict abc123
`

func TestNeededRoles(t *testing.T) {
	stmts := SplitStatements(schemaSQL)
	for _, s := range stmts {
		if strings.HasPrefix(s.Text, `\`) || strings.HasPrefix(s.Text, "--") {
			t.Errorf("statement %q kept a meta-command or comment", s.Text)
		}
	}
	got := NeededRoles(stmts)
	want := []string{"App Owner", `Odd "Role"`, "app", "granter", "readers", "writers"}
	if !slices.Equal(got, want) {
		t.Fatalf("NeededRoles = %q, want %q", got, want)
	}
}

func TestMapStatementRoles(t *testing.T) {
	m := map[string]string{"app": "new_app", "readers": "Readers Team", `Odd "Role"`: "odd", "owner": "x"}
	var out []string
	for _, s := range SplitStatements(schemaSQL) {
		out = append(out, MapStatementRoles(s, m).Text)
	}
	text := strings.Join(out, ";\n")
	for _, want := range []string{
		"ALTER SCHEMA s OWNER TO new_app",
		`ALTER TABLE public."OWNER" OWNER TO new_app`, // the table named "OWNER" is not a role
		`CREATE POLICY p ON public."OWNER" TO "Readers Team", odd USING (("to" > 0))`,
		`GRANT SELECT ON TABLE public."OWNER" TO "Readers Team"`,
		`GRANT SELECT("to"),UPDATE("to") ON TABLE public."OWNER" TO odd WITH GRANT OPTION`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE new_app IN SCHEMA public GRANT SELECT ON TABLES  TO "Readers Team"`,
		`REVOKE ALL ON SCHEMA public FROM PUBLIC`,
		`ALTER FUNCTION s.f() OWNER TO "App Owner"`,
		`$_$SELECT 'ALTER TABLE x OWNER TO ghost; GRANT ALL ON x TO ghost2;'$_$`, // a function body is never rewritten
		`'GRANT SELECT ON t TO nobody; it''s fine'`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("mapped SQL lacks %q:\n%s", want, text)
		}
	}
}

func TestStatementRolesGrantedBy(t *testing.T) {
	refs := StatementRoles(Statement{Text: `GRANT readers TO "Odd Role" WITH INHERIT TRUE GRANTED BY grp_admin`})
	var names []string
	for _, r := range refs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"Odd Role", "grp_admin"}) {
		t.Fatalf("roles %q", names)
	}
}

func TestHasPassword(t *testing.T) {
	for sql, want := range map[string]bool{
		"CREATE ROLE app;\nALTER ROLE app WITH NOSUPERUSER LOGIN;":                      false,
		`CREATE ROLE "PASSWORD 'x'";`:                                                   false,
		"ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc';":                  true,
		"ALTER ROLE app WITH LOGIN PASSWORD 'md5abc';":                                  true,
		"CREATE USER u PASSWORD $$x$$;":                                                 true,
		"COMMENT ON ROLE app IS 'has no PASSWORD ''x''';\nALTER ROLE app WITH NOLOGIN;": false,
	} {
		if got := HasPassword([]byte(sql)); got != want {
			t.Errorf("HasPassword(%q) = %v, want %v", sql, got, want)
		}
	}
}
