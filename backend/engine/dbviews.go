package engine

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/pg"
	"github.com/pgsafe/pgsafe/backend/store"
)

// RolePlan is the SQL that would create a read-only role, for review (to
// copy, or to run with SetupReadOnlyRole); the new role's password is not
// part of it.
type RolePlan struct {
	Role       string
	Method     string // pg.MethodReadAllData or pg.MethodPerSchema
	SQL        string
	Notes      []string // what the SQL does not cover, and side effects
	WriteRisks []string // ways the role would still write, which SetupReadOnlyRole refuses
}

// PlanRole is PlanReadOnlyRole as a face shows it.
func PlanRole(ctx context.Context, adminURL, role string, opts pg.SetupOptions) (RolePlan, error) {
	p, err := PlanReadOnlyRole(ctx, adminURL, role, opts)
	if err != nil {
		return RolePlan{}, err
	}
	return RolePlan{Role: p.Role, Method: p.Method, SQL: p.SQL(), Notes: p.Notes, WriteRisks: p.WriteRisks}, nil
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
