package pg

import (
	"fmt"
	"slices"
	"strings"
)

// power is one thing a role can do that matters to the audit, from a grant
// or an ownership (objPriv) or a role attribute.
type power struct {
	code     string
	severity Severity
	phrase   string // e.g. "INSERT into table shop.orders", "owns schema shop"
	p        objPriv
}

// privPower classifies a privilege or ownership; ok false when it does not
// matter (e.g. INSERT granted on a materialized view, which cannot take it).
func privPower(p objPriv) (pw power, ok bool) {
	pw.p = p
	obj := p.kind + " " + p.object
	set := func(code string, sev Severity, phrase string) (power, bool) {
		pw.code, pw.severity, pw.phrase = code, sev, phrase
		return pw, true
	}
	if p.priv == "OWNER" {
		switch p.kind {
		case "schema":
			return set(CodeSchemaOwner, SeverityWrite, "owns "+obj)
		case "database":
			return set(CodeDatabaseOwner, SeverityWrite, "owns "+obj)
		case "large object":
			return set(CodeLargeObjectWrite, SeverityWrite, "owns "+obj)
		case "function", "procedure":
			return set(CodeFunctionOwner, SeverityWrite, "owns "+obj)
		}
		return set(CodeTableOwner, SeverityWrite, "owns "+obj)
	}
	switch p.kind {
	case "table", "view", "foreign table":
		switch p.priv {
		case "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER":
			if p.column != "" {
				return set(CodeColumnWrite, SeverityWrite, fmt.Sprintf("%s column %s of %s", p.priv, p.column, obj))
			}
			return set(CodeTableWrite, SeverityWrite, p.priv+" on "+obj)
		case "REFERENCES":
			return set(CodeTableReferences, SeverityWarning, "REFERENCES on "+obj)
		case "MAINTAIN":
			return set(CodeTableMaintain, SeverityWarning, "MAINTAIN on "+obj)
		}
	case "materialized view":
		if p.priv == "MAINTAIN" {
			return set(CodeTableMaintain, SeverityWarning, "MAINTAIN on "+obj)
		}
	case "sequence":
		if p.priv == "UPDATE" || p.priv == "USAGE" {
			return set(CodeSequenceWrite, SeverityWrite, p.priv+" on "+obj)
		}
	case "schema":
		if p.priv == "CREATE" {
			return set(CodeSchemaCreate, SeverityWrite, "CREATE in "+obj)
		}
	case "database":
		switch p.priv {
		case "CREATE":
			return set(CodeDatabaseCreate, SeverityWrite, "CREATE (new schemas) in "+obj)
		case "TEMPORARY":
			return set(CodeDatabaseTemp, SeverityWarning, "TEMPORARY (temporary tables) in "+obj)
		}
	case "large object":
		if p.priv == "UPDATE" {
			return set(CodeLargeObjectWrite, SeverityWrite, "UPDATE on "+obj)
		}
	}
	return pw, false
}

// attrPowers are the powers a role's attributes give whoever can SET ROLE to
// it (attributes are never inherited). versionNum decides CREATEROLE: up to
// PostgreSQL 15 it can grant itself any non-superuser role, so it is write
// access; from 16 on only roles it administers.
func attrPowers(r *role, versionNum int) []power {
	var out []power
	add := func(on bool, code string, sev Severity, phrase string) {
		if on {
			out = append(out, power{code: code, severity: sev, phrase: phrase})
		}
	}
	add(r.super, CodeSuperuser, SeverityWrite, "is a superuser")
	add(r.createRole, CodeCreateRole, createRoleSeverity(versionNum), "has CREATEROLE")
	add(r.createDB, CodeCreateDB, SeverityWarning, "has CREATEDB")
	add(r.replication, CodeReplication, SeverityWarning, "has REPLICATION")
	add(r.bypassRLS, CodeBypassRLS, SeverityWarning, "has BYPASSRLS")
	return out
}

func createRoleSeverity(versionNum int) Severity {
	if versionNum < 160000 {
		return SeverityWrite
	}
	return SeverityWarning
}

// predefined are PostgreSQL's predefined roles that matter to the audit.
var predefined = map[string]struct {
	code     string
	severity Severity
	what     string
}{
	"pg_write_all_data":         {CodeMemberOfWriteAll, SeverityWrite, "can INSERT, UPDATE and DELETE in every table, view and sequence of every database (pg_write_all_data)"},
	"pg_write_server_files":     {CodeMemberOfServerFiles, SeverityWrite, "can write any file the database server's operating-system account can write, the database's own files included (pg_write_server_files)"},
	"pg_execute_server_program": {CodeMemberOfServerProg, SeverityWrite, "can run programs on the database server as its operating-system account (pg_execute_server_program)"},
	"pg_maintain":               {CodeMemberOfMaintain, SeverityWarning, "can VACUUM, ANALYZE, CLUSTER, REINDEX, LOCK every table and REFRESH every materialized view (pg_maintain)"},
	"pg_signal_backend":         {CodeMemberOfSignal, SeverityWarning, "can cancel the queries and end the sessions of other non-superuser roles (pg_signal_backend)"},
	"pg_read_all_data":          {CodeMemberOfReadAll, SeverityInfo, "reads every table, view and sequence of every database (pg_read_all_data)"},
}

// phrases lists the powers' phrases, writes first, each part sorted.
func phrases(ps []power) []string {
	var w, o []string
	for _, p := range ps {
		if p.severity == SeverityWrite {
			w = append(w, p.phrase)
		} else {
			o = append(o, p.phrase)
		}
	}
	slices.Sort(w)
	slices.Sort(o)
	return append(w, o...)
}

func worst(ps []power) Severity {
	s := SeverityInfo
	for _, p := range ps {
		if p.severity == SeverityWrite {
			return SeverityWrite
		}
		if p.severity == SeverityWarning {
			s = SeverityWarning
		}
	}
	return s
}

// sqlKind is the keyword an ALTER … OWNER TO or GRANT/REVOKE takes for kind.
func sqlKind(kind string) string {
	switch kind {
	case "table", "view", "materialized view", "foreign table", "sequence", "schema", "database", "function", "procedure", "large object":
		return strings.ToUpper(kind)
	}
	return "TABLE"
}
