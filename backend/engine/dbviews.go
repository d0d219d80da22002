package engine

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// RoleInput is a new read-only role's options as a face gives them.
type RoleInput struct {
	// Password is the new role's; empty: PgSafe generates one.
	Password           string
	PerSchema          bool
	RevokePublicTemp   bool
	RevokePublicCreate bool
}

// Options are the role's setup options, its password sealed.
func (in RoleInput) Options() pg.SetupOptions {
	o := pg.SetupOptions{PerSchema: in.PerSchema, RevokePublicTemp: in.RevokePublicTemp, RevokePublicCreate: in.RevokePublicCreate}
	if in.Password != "" {
		o.Password = pg.NewSecret(in.Password)
	}
	return o
}

// RolePlan is the SQL that would create a read-only role, for review (to
// copy, or to run with SetupReadOnlyRole).
type RolePlan struct {
	Role       string
	Method     string   // pg.MethodReadAllData or pg.MethodPerSchema
	SQL        string   // the password appears only as a SCRAM verifier
	Notes      []string // what the SQL does not cover, and side effects
	WriteRisks []string // ways the role would still write, which SetupReadOnlyRole refuses
	// Password is the new role's password, generated or given: the command
	// line shows a generated one once; the window never shows it (it
	// stores it sealed in the new database entry).
	Password string `json:"-"`
}

// PlanRole is PlanReadOnlyRole as a face shows it.
func PlanRole(ctx context.Context, adminURL, role string, opts pg.SetupOptions) (RolePlan, error) {
	p, err := PlanReadOnlyRole(ctx, adminURL, role, opts)
	if err != nil {
		return RolePlan{}, err
	}
	return rolePlan(p), nil
}

func rolePlan(p pg.SetupPlan) RolePlan {
	return RolePlan{Role: p.Role, Method: p.Method, SQL: p.SQL(), Notes: p.Notes, WriteRisks: p.WriteRisks, Password: p.Password.Reveal()}
}

// RolePlan is what ran, as PlanRole shows a plan.
func (r *SetupResult) RolePlan() RolePlan { return rolePlan(r.Plan) }

// RoleVerdict is a privilege check's verdict (pg.Report) as a face reports it.
type RoleVerdict struct {
	// Words: "read-only ✓", "read-only, with warnings", "HAS WRITE ACCESS ✗".
	Words string
	// Clean: read-only without warnings (nothing to show the user).
	Clean bool
	// WriteAccess: the role can change data; Writes counts the findings
	// by which it can.
	WriteAccess bool
	Writes      int
}

// VerdictOf is the report's verdict as a face reports it.
func VerdictOf(rep pg.Report) RoleVerdict {
	v := RoleVerdict{Clean: rep.Verdict == pg.VerdictReadOnly, WriteAccess: rep.Verdict == pg.VerdictWriteAccess}
	switch rep.Verdict {
	case pg.VerdictReadOnly:
		v.Words = "read-only ✓"
	case pg.VerdictReadOnlyWithWarnings:
		v.Words = "read-only, with warnings"
	case pg.VerdictWriteAccess:
		v.Words = "HAS WRITE ACCESS ✗"
	}
	for _, f := range rep.Findings {
		if f.Severity == pg.SeverityWrite {
			v.Writes++
		}
	}
	return v
}

// Whether a database's role can change data, and whether the user
// accepted that (WriteAccessOf).
const (
	WriteAccessNone     = ""         // it cannot (or it was never checked)
	WriteAccessAccepted = "accepted" // it can, and the user accepted it
	WriteAccessFound    = "found"    // it can, not accepted: the database is failing
)

// WriteAccessOf says whether the database's role can change data, from
// its newest privilege check, and whether the user accepted it.
func WriteAccessOf(d store.Database) string {
	if d.Verdict != string(pg.VerdictWriteAccess) {
		return WriteAccessNone
	}
	if d.WriteAccepted {
		return WriteAccessAccepted
	}
	return WriteAccessFound
}

// StorageNamesOf names the storages with these IDs, in order.
func (e *Engine) StorageNamesOf(ctx context.Context, ids []int64) ([]string, error) {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		st, err := e.store.Storage(ctx, id)
		if err != nil {
			return nil, err
		}
		names = append(names, st.Name)
	}
	return names, nil
}
