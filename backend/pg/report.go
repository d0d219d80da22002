package pg

import (
	"cmp"
	"slices"
)

// Severity says how much a finding matters.
type Severity string

const (
	SeverityWrite   Severity = "write"   // the role can change stored data, or give itself that power
	SeverityWarning Severity = "warning" // widens reach or side effects, changes no stored data
	SeverityInfo    Severity = "info"    // worth knowing, changes nothing
)

// Verdict is the audit's summary.
type Verdict string

const (
	VerdictReadOnly             Verdict = "read_only"
	VerdictReadOnlyWithWarnings Verdict = "read_only_with_warnings"
	VerdictWriteAccess          Verdict = "write_access"
)

// Finding codes. docs/PRIVILEGES.md explains each: what it checks, how, and
// why it is classified so.
const (
	CodeSuperuser             = "superuser"
	CodeCreateRole            = "createrole"
	CodeCreateDB              = "createdb"
	CodeReplication           = "replication"
	CodeBypassRLS             = "bypassrls"
	CodeMemberOfSuperuser     = "member_of_superuser"
	CodeMemberOfWriteAll      = "member_of_pg_write_all_data"
	CodeMemberOfServerFiles   = "member_of_pg_write_server_files"
	CodeMemberOfServerProg    = "member_of_pg_execute_server_program"
	CodeMemberOfMaintain      = "member_of_pg_maintain"
	CodeMemberOfSignal        = "member_of_pg_signal_backend"
	CodeMemberOfReadAll       = "member_of_pg_read_all_data"
	CodeMemberOfWriter        = "member_of_writer"
	CodeCanSetRoleWriter      = "can_set_role_writer"
	CodeMemberWithWarnings    = "member_of_role_with_warnings"
	CodeDatabaseOwner         = "database_owner"
	CodeDatabaseCreate        = "database_create"
	CodeDatabaseTemp          = "database_temp"
	CodeSchemaOwner           = "schema_owner"
	CodeSchemaCreate          = "schema_create"
	CodeTableOwner            = "table_owner"
	CodeTableWrite            = "table_write"
	CodeColumnWrite           = "column_write"
	CodeTableReferences       = "table_references"
	CodeTableMaintain         = "table_maintain"
	CodeSequenceWrite         = "sequence_write"
	CodeFunctionOwner         = "function_owner"
	CodeSecurityDefiner       = "security_definer_function"
	CodeLargeObjectWrite      = "large_object_write"
	CodeLOCompatPrivileges    = "lo_compat_privileges"
	CodeLargeObjectCreate     = "large_object_create"
	CodeUnexplainedTableWrite = "table_write_unexplained"
)

// Finding is one way the role could change data (or a warning, or a note):
// what it is in plain words, and the SQL an administrator runs to remove it.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Object   string   `json:"object"` // e.g. "table shop.orders", "role app", "database shop"
	Detail   string   `json:"detail"` // plain English, for someone who is not a DBA
	FixSQL   string   `json:"fix_sql"`
}

// MissingRead is something pg_dump needs to read and this role cannot: a
// backup would fail on it.
type MissingRead struct {
	Object    string `json:"object"`    // e.g. "table shop.secret"
	Privilege string `json:"privilege"` // e.g. "SELECT"
	Detail    string `json:"detail"`
	FixSQL    string `json:"fix_sql"`
}

// Report is the read-only audit of one role on one database. Its JSON form
// is the one `pgsafe db check --json` prints (docs/CLI.md).
type Report struct {
	Verdict     Verdict       `json:"verdict"`
	Findings    []Finding     `json:"findings"`
	MissingRead []MissingRead `json:"missing_read"`

	Role          string `json:"-"` // the audited role (current_user)
	Database      string `json:"-"`
	ServerVersion int    `json:"-"` // server_version_num
}

// Codes lists the findings' codes in order, for tests and summaries.
func (r Report) Codes() []string {
	out := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

var severityRank = map[Severity]int{SeverityWrite: 0, SeverityWarning: 1, SeverityInfo: 2}

// finish sorts the report and sets its verdict: write access when any
// finding is a write; with warnings when any is a warning or something
// pg_dump needs cannot be read; read-only otherwise.
func (r *Report) finish() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
			cmp.Compare(a.Code, b.Code), cmp.Compare(a.Object, b.Object))
	})
	slices.SortStableFunc(r.MissingRead, func(a, b MissingRead) int { return cmp.Compare(a.Object, b.Object) })
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.MissingRead == nil {
		r.MissingRead = []MissingRead{}
	}
	r.Verdict = VerdictReadOnly
	if len(r.MissingRead) > 0 {
		r.Verdict = VerdictReadOnlyWithWarnings
	}
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityWrite:
			r.Verdict = VerdictWriteAccess
			return
		case SeverityWarning:
			r.Verdict = VerdictReadOnlyWithWarnings
		}
	}
}
