package pg

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SuggestedRole is the name PgSafe proposes for a dedicated read-only role
// (the wizard's default too).
const SuggestedRole = "pgsafe_backup"

// suggestReadOnlyRole is the fix PgSafe offers for a role that must not be
// changed (a superuser): not to take its rights away, but the SQL of the
// dedicated read-only role PgSafe's guided setup would create in tx's
// database, without a password (set by hand with psql's \password, which
// sends only its hash). It reads the catalogs only. When PUBLIC's CREATE on
// a schema would leave the new role able to write, the plan includes the
// optional revoke that the guided setup then asks for.
func suggestReadOnlyRole(ctx context.Context, tx pgx.Tx) (string, error) {
	name := SuggestedRole
	for i := 2; ; i++ {
		var taken bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&taken); err != nil {
			return "", fmt.Errorf("suggest a read-only role: %w", err)
		}
		if !taken {
			break
		}
		name = fmt.Sprintf("%s_%d", SuggestedRole, i)
	}
	plan, err := planReadOnly(ctx, tx, name, "", SetupOptions{})
	if err == nil && len(plan.WriteRisks) > 0 {
		plan, err = planReadOnly(ctx, tx, name, "", SetupOptions{RevokePublicCreate: true})
	}
	if err != nil {
		return "", fmt.Errorf("suggest a read-only role: %w", err)
	}
	var b strings.Builder
	b.WriteString("-- Do not take superuser away from this role: it may be the server's only superuser.\n")
	fmt.Fprintf(&b, "-- Back up with a dedicated read-only role instead. PgSafe's guided setup runs this for you, with a\n"+
		"-- generated password; by hand, as a superuser, connected to database %s:\n", plan.Database)
	b.WriteString("BEGIN;\n")
	for _, s := range plan.Statements {
		fmt.Fprintf(&b, "-- %s\n%s\n", s.Why, s.SQL)
	}
	b.WriteString("COMMIT;\n")
	fmt.Fprintf(&b, "-- then give it a password in psql (it sends only the password's hash): \\password %s", plan.RoleIdent)
	for _, n := range plan.Notes {
		fmt.Fprintf(&b, "\n-- Note: %s", n)
	}
	for _, r := range plan.WriteRisks {
		fmt.Fprintf(&b, "\n-- Not read-only yet: %s", r)
	}
	return b.String(), nil
}
