package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SetupOptions shape the read-only role SetupReadOnlySQL plans.
type SetupOptions struct {
	// Password is the new role's; empty: GeneratePassword makes one.
	Password Secret
	// PerSchema grants USAGE and SELECT schema by schema, with default
	// privileges for future tables, even where pg_read_all_data exists
	// (PostgreSQL 14 and later), e.g. to keep the role to this database.
	PerSchema bool
	// RevokePublicTemp revokes TEMPORARY on the database from PUBLIC:
	// PostgreSQL's default lets every role create temporary tables, which
	// the audit reports as a warning. Other roles that need them must then
	// be granted TEMPORARY explicitly. Off by default.
	RevokePublicTemp bool
	// RevokePublicCreate revokes CREATE from PUBLIC on every schema where
	// PUBLIC has it (schema public, before PostgreSQL 15): otherwise every
	// role, the new one included, can create objects there, which is write
	// access. Roles that create objects there must then be granted CREATE
	// explicitly. Off by default.
	RevokePublicCreate bool
}

// SetupStatement is one statement of the setup and why it is there.
type SetupStatement struct {
	Step string // short label, used in errors (the SQL may hold the password's verifier)
	Why  string
	SQL  string
}

// Setup methods.
const (
	MethodReadAllData = "pg_read_all_data"
	MethodPerSchema   = "per_schema"
)

// SetupPlan is the SQL that creates a read-only backup role, for review
// before it runs.
type SetupPlan struct {
	Role       string // as given
	RoleIdent  string // quoted
	Database   string // quoted; the SQL runs in this database
	Password   Secret // the new role's password, shown to the user once
	Method     string // MethodReadAllData or MethodPerSchema
	Statements []SetupStatement
	// Notes say what the SQL does not cover, and side effects.
	Notes []string
	// WriteRisks are ways the new role would still have write access that
	// the chosen options leave in place; SetupReadOnly refuses to run then.
	WriteRisks []string
}

// SQL is the whole script, with comments, in one transaction. It holds the
// password's SCRAM verifier, not the password.
func (p SetupPlan) SQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- PgSafe: read-only backup role %s (%s) for database %s.\n", p.RoleIdent, p.Method, p.Database)
	fmt.Fprintf(&b, "-- Run as a superuser (or a role that may grant all of this), connected to database %s.\n", p.Database)
	fmt.Fprintf(&b, "-- The password is set as a SCRAM-SHA-256 verifier: the password itself appears nowhere here.\n")
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "-- Note: %s\n", n)
	}
	b.WriteString("BEGIN;\n")
	for _, s := range p.Statements {
		fmt.Fprintf(&b, "-- %s\n%s\n", s.Why, s.SQL)
	}
	b.WriteString("COMMIT;\n")
	return b.String()
}

// SetupReadOnlySQL plans a new login role that can read everything pg_dump
// needs in admin's database and change nothing: CREATE ROLE with a SCRAM
// verifier of a strong password, CONNECT, then pg_read_all_data (PostgreSQL
// 14+) or, per schema, USAGE and SELECT on all tables and sequences plus
// default privileges for every role that can create tables, so future
// tables stay readable; SELECT on existing large objects. It only reads
// admin's catalogs; RunSetup executes the plan.
func SetupReadOnlySQL(ctx context.Context, admin *pgx.Conn, role string, opts SetupOptions) (SetupPlan, error) {
	if err := checkRoleName(role); err != nil {
		return SetupPlan{}, err
	}
	pw := opts.Password
	if !pw.IsSet() {
		pw = GeneratePassword()
	} else if err := checkNewPassword(pw.Reveal()); err != nil {
		return SetupPlan{}, err
	}
	verifier, err := scramVerifier(pw.Reveal())
	if err != nil {
		return SetupPlan{}, fmt.Errorf("compute the password's verifier: %w", err)
	}
	tx, err := admin.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return SetupPlan{}, fmt.Errorf("plan the read-only role: %w", err)
	}
	defer tx.Rollback(context.Background())
	plan, err := planReadOnly(ctx, tx, role, fmt.Sprintf(" PASSWORD '%s'", verifier), opts)
	if err != nil {
		return SetupPlan{}, err
	}
	plan.Password = pw
	return plan, nil
}

// planReadOnly plans the read-only role in tx (read-only: it only reads
// the catalogs); password is the CREATE ROLE's PASSWORD clause, or empty.
func planReadOnly(ctx context.Context, tx pgx.Tx, role, password string, opts SetupOptions) (SetupPlan, error) {
	var exists, adminSuper bool
	var versionNum, los int
	plan := SetupPlan{Role: role}
	err := tx.QueryRow(ctx, `SELECT quote_ident($1), quote_ident(current_database()),
			EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
			(SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
			current_setting('server_version_num')::int,
			(SELECT count(*) FROM pg_largeobject_metadata)`, role).Scan(
		&plan.RoleIdent, &plan.Database, &exists, &adminSuper, &versionNum, &los)
	if err != nil {
		return SetupPlan{}, fmt.Errorf("plan the read-only role: %w", err)
	}
	if exists {
		return SetupPlan{}, fmt.Errorf("role %s already exists on this server: choose another name (PgSafe creates a new role, it does not change an existing one)", plan.RoleIdent)
	}
	r, db := plan.RoleIdent, plan.Database
	add := func(step, why, sql string) {
		plan.Statements = append(plan.Statements, SetupStatement{Step: step, Why: why, SQL: sql})
	}
	add("create role", "a login role without any administrative power",
		fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT%s;", r, password))
	add("grant CONNECT", "it may connect to this database",
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s;", db, r))

	if versionNum >= 140000 && !opts.PerSchema {
		plan.Method = MethodReadAllData
		add("grant pg_read_all_data", "it reads every table, view and sequence, those created later included (PostgreSQL 14 and later)",
			fmt.Sprintf("GRANT pg_read_all_data TO %s;", r))
		plan.Notes = append(plan.Notes, "pg_read_all_data reads every database of this server the role may connect to; "+
			"other databases let every role connect by default (CONNECT for PUBLIC). Use the per-schema method to keep it to this database.")
	} else {
		plan.Method = MethodPerSchema
		if err := planPerSchema(ctx, tx, &plan, adminSuper, add); err != nil {
			return SetupPlan{}, err
		}
	}
	if los > 0 {
		cond := ""
		if !adminSuper {
			cond = " WHERE pg_has_role(lomowner, 'MEMBER')"
		}
		add("grant SELECT on large objects", fmt.Sprintf("it reads the existing large object%s (%d)", plural(los), los),
			fmt.Sprintf("DO $pgsafe$DECLARE o oid; BEGIN FOR o IN SELECT oid FROM pg_largeobject_metadata%s LOOP "+
				"EXECUTE format('GRANT SELECT ON LARGE OBJECT %%s TO %%s', o, %s); END LOOP; END$pgsafe$;", cond, quoteLiteral(r)))
		plan.Notes = append(plan.Notes, "large objects created later are not readable by the new role (before PostgreSQL 18 there are no default privileges for them): "+
			"grant SELECT on them as they are created, or PgSafe's check will name them.")
	}
	if err := planPublic(ctx, tx, &plan, opts, add); err != nil {
		return SetupPlan{}, err
	}
	return plan, nil
}

// planPerSchema adds USAGE and SELECT for each schema, and default
// privileges for every role that could create tables or schemas later.
func planPerSchema(ctx context.Context, tx pgx.Tx, plan *SetupPlan, adminSuper bool, add func(step, why, sql string)) error {
	rows, err := tx.Query(ctx, `SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE `+nsFilter+` ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("plan the read-only role: list schemas: %w", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("plan the read-only role: list schemas: %w", err)
	}
	r := plan.RoleIdent
	for _, s := range schemas {
		add("grant USAGE on schema "+s, "it may look into schema "+s, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s;", s, r))
		add("grant SELECT on tables in "+s, "it reads the tables and views of schema "+s, fmt.Sprintf("GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s;", s, r))
		add("grant SELECT on sequences in "+s, "it reads the sequences of schema "+s, fmt.Sprintf("GRANT SELECT ON ALL SEQUENCES IN SCHEMA %s TO %s;", s, r))
	}
	// Who could create tables (or schemas) later: the owners of today's
	// tables and schemas, the roles with CREATE on a schema or on the
	// database, the database's owner, superusers that can log in, and the
	// admin running this. Default privileges act per creating role.
	rows, err = tx.Query(ctx, `WITH creators AS (
			SELECT c.relowner AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE `+nsFilter+`
			UNION SELECT n.nspowner FROM pg_namespace n WHERE `+nsFilter+`
			UNION SELECT a.grantee FROM pg_namespace n, aclexplode(n.nspacl) a WHERE `+nsFilter+` AND a.privilege_type = 'CREATE'
			UNION SELECT a.grantee FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.privilege_type = 'CREATE'
			UNION SELECT datdba FROM pg_database WHERE datname = current_database()
			UNION SELECT oid FROM pg_roles WHERE rolsuper AND rolcanlogin
			UNION SELECT oid FROM pg_roles WHERE rolname = current_user)
		SELECT quote_ident(r.rolname), $1 OR pg_has_role(r.oid, 'MEMBER')
		FROM creators c JOIN pg_roles r ON r.oid = c.r
		WHERE r.rolname NOT LIKE 'pg\_%' ORDER BY 1`, adminSuper)
	if err != nil {
		return fmt.Errorf("plan the read-only role: list the roles that create tables: %w", err)
	}
	type creator struct {
		ident string
		can   bool
	}
	creators, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (creator, error) {
		var c creator
		err := row.Scan(&c.ident, &c.can)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("plan the read-only role: list the roles that create tables: %w", err)
	}
	var cannot []string
	for _, c := range creators {
		sql := fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %[1]s GRANT SELECT ON TABLES TO %[2]s;\n"+
			"ALTER DEFAULT PRIVILEGES FOR ROLE %[1]s GRANT SELECT ON SEQUENCES TO %[2]s;\n"+
			"ALTER DEFAULT PRIVILEGES FOR ROLE %[1]s GRANT USAGE ON SCHEMAS TO %[2]s;", c.ident, r)
		if !c.can {
			cannot = append(cannot, strings.ReplaceAll(sql, "\n", " "))
			continue
		}
		add("default privileges for "+c.ident, "tables, sequences and schemas "+c.ident+" creates later are readable too (in every schema of this database)", sql)
	}
	if len(cannot) > 0 {
		plan.Notes = append(plan.Notes, "this admin role may not set default privileges for some roles that can create tables; ask them, or a superuser, to run: "+strings.Join(cannot, " "))
	}
	plan.Notes = append(plan.Notes, "tables created later by a role not named in the ALTER DEFAULT PRIVILEGES statements are not readable until granted; PgSafe's check names them.")
	return nil
}

// planPublic looks at what PUBLIC (every role) may do that the new role
// would inherit, and adds the optional revokes.
func planPublic(ctx context.Context, tx pgx.Tx, plan *SetupPlan, opts SetupOptions, add func(step, why, sql string)) error {
	var publicTemp bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database d,
			aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
			WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type = 'TEMPORARY')`).Scan(&publicTemp); err != nil {
		return fmt.Errorf("plan the read-only role: %w", err)
	}
	switch {
	case publicTemp && opts.RevokePublicTemp:
		add("revoke TEMPORARY from PUBLIC", "optional: no role may create temporary tables here unless granted TEMPORARY explicitly (roles that need them must be granted it)",
			fmt.Sprintf("REVOKE TEMPORARY ON DATABASE %s FROM PUBLIC;", plan.Database))
	case publicTemp:
		plan.Notes = append(plan.Notes, "every role may create temporary tables in this database (PostgreSQL's default), the new one too: "+
			"the check reports it as a note, not a warning. Temporary tables change no stored data; revoking TEMPORARY from PUBLIC is optional.")
	}
	rows, err := tx.Query(ctx, `SELECT quote_ident(n.nspname) FROM pg_namespace n,
			aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
		WHERE `+nsFilter+` AND a.grantee = 0 AND a.privilege_type = 'CREATE' ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("plan the read-only role: %w", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("plan the read-only role: %w", err)
	}
	for _, s := range schemas {
		if opts.RevokePublicCreate {
			add("revoke CREATE on "+s+" from PUBLIC", "optional: no role may create objects in schema "+s+" unless granted CREATE explicitly (roles that do must be granted it)",
				fmt.Sprintf("REVOKE CREATE ON SCHEMA %s FROM PUBLIC;", s))
		} else {
			plan.WriteRisks = append(plan.WriteRisks, fmt.Sprintf("every role may create objects in schema %s (PUBLIC has CREATE, the default before PostgreSQL 15), so the new role could too: revoke it (RevokePublicCreate, --revoke-public-create)", s))
		}
	}
	rows, err = tx.Query(ctx, `SELECT DISTINCT format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
		WHERE `+nsFilter+` AND a.grantee = 0 AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'USAGE') ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("plan the read-only role: %w", err)
	}
	writable, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("plan the read-only role: %w", err)
	}
	if len(writable) > 0 {
		plan.WriteRisks = append(plan.WriteRisks, fmt.Sprintf("every role may change %s (write rights granted to PUBLIC), so the new role could too: revoke them from PUBLIC first", listSome(writable, 5)))
	}
	return nil
}

// checkRoleName accepts a name for the new role.
func checkRoleName(role string) error {
	switch {
	case strings.TrimSpace(role) == "":
		return errors.New("the new role's name is empty")
	case len(role) > 63:
		return errors.New("the new role's name is longer than 63 bytes, PostgreSQL's limit")
	case strings.HasPrefix(role, "pg_"):
		return errors.New("role names starting with pg_ are reserved by PostgreSQL: choose another, e.g. pgsafe_backup")
	case strings.ContainsRune(role, 0), strings.Contains(role, "$pgsafe$"):
		return errors.New("the new role's name contains a character sequence PgSafe does not accept: choose a plain name, e.g. pgsafe_backup")
	}
	return nil
}

// SetupError is a failed setup step; the transaction was rolled back, so
// nothing changed.
type SetupError struct {
	Step string
	Err  error
}

func (e *SetupError) Error() string {
	msg := e.Err.Error()
	var pgErr *pgconn.PgError
	if errors.As(e.Err, &pgErr) {
		msg = pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	}
	return fmt.Sprintf("read-only role setup: step %q failed: %s; everything was rolled back, nothing changed", e.Step, msg)
}

func (e *SetupError) Unwrap() error { return e.Err }

// RunSetup executes plan on admin in one READ WRITE transaction (the only
// write PgSafe makes with its own sessions): all of it, or, on any error,
// nothing. Errors name the step, never the SQL (which holds the password's
// verifier).
func RunSetup(ctx context.Context, admin *pgx.Conn, plan SetupPlan) error {
	if len(plan.Statements) == 0 {
		return errors.New("read-only role setup: the plan is empty")
	}
	tx, err := admin.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadWrite})
	if err != nil {
		return &SetupError{Step: "begin", Err: err}
	}
	defer tx.Rollback(context.Background())
	for _, s := range plan.Statements {
		if _, err := tx.Exec(ctx, s.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return &SetupError{Step: s.Step, Err: err}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return &SetupError{Step: "commit", Err: err}
	}
	return nil
}

// SetupResult is a finished setup: the plan that ran (with the new role's
// password, to show once) and the audit of the new role, connected as it.
type SetupResult struct {
	Plan   SetupPlan
	Config Config // the new role's connection: admin's settings, the new user and password
	Report Report
}

// SetupReadOnly connects with admin's credentials (used for this call only,
// never stored or logged), plans the role, refuses if the plan leaves write
// risks, runs it, then connects as the new role and audits it.
func SetupReadOnly(ctx context.Context, admin Config, role string, opts SetupOptions) (SetupResult, error) {
	conn, err := Connect(ctx, admin)
	if err != nil {
		return SetupResult{}, err
	}
	defer conn.Close(context.Background())
	plan, err := SetupReadOnlySQL(ctx, conn, role, opts)
	if err != nil {
		return SetupResult{}, err
	}
	if len(plan.WriteRisks) > 0 {
		return SetupResult{Plan: plan}, fmt.Errorf("the new role would not be read-only, so nothing was changed: %s", strings.Join(plan.WriteRisks, "; "))
	}
	if err := RunSetup(ctx, conn, plan); err != nil {
		return SetupResult{Plan: plan}, err
	}
	res := SetupResult{Plan: plan, Config: admin.WithUser(role, plan.Password)}
	rc, err := Connect(ctx, res.Config)
	if err != nil {
		return res, fmt.Errorf("role %s was created, but PgSafe cannot connect as it (pg_hba.conf may list users by name): %w", plan.RoleIdent, err)
	}
	defer rc.Close(context.Background())
	if res.Report, err = Audit(ctx, rc); err != nil {
		return res, fmt.Errorf("role %s was created, but its check failed: %w", plan.RoleIdent, err)
	}
	return res, nil
}
