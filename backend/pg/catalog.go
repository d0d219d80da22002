package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// nsFilter leaves out the system's schemas (and temporary and TOAST ones).
const nsFilter = `n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// relKind names a pg_class row's kind.
const relKind = `CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
	WHEN 'f' THEN 'foreign table' ELSE 'table' END`

// session is who is connected, where.
type session struct {
	me          uint32
	db          string // quoted
	dbOwner     uint32
	versionNum  int
	loCompat    bool
	canCreateLO bool
}

func loadSession(ctx context.Context, tx pgx.Tx) (session, error) {
	var s session
	var loCompat string
	err := tx.QueryRow(ctx, `SELECT r.oid, quote_ident(d.datname), d.datdba,
			current_setting('server_version_num')::int, current_setting('lo_compat_privileges'),
			has_function_privilege('pg_catalog.lo_create(oid)', 'EXECUTE')
				OR has_function_privilege('pg_catalog.lo_creat(integer)', 'EXECUTE')
				OR has_function_privilege('pg_catalog.lo_from_bytea(oid, bytea)', 'EXECUTE')
		FROM pg_roles r, pg_database d
		WHERE r.rolname = current_user AND d.datname = current_database()`).Scan(
		&s.me, &s.db, &s.dbOwner, &s.versionNum, &loCompat, &s.canCreateLO)
	s.loCompat = loCompat == "on"
	return s, err
}

func loadRoles(ctx context.Context, tx pgx.Tx, versionNum int) (*roleGraph, error) {
	rows, err := tx.Query(ctx, `SELECT oid, rolname, quote_ident(rolname), rolsuper, rolinherit,
		rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles`)
	if err != nil {
		return nil, err
	}
	roles, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*role, error) {
		var x role
		err := r.Scan(&x.oid, &x.name, &x.ident, &x.super, &x.inherit, &x.createRole, &x.createDB, &x.replication, &x.bypassRLS)
		return &x, err
	})
	if err != nil {
		return nil, err
	}
	// PostgreSQL 16 gave each grant its own INHERIT and SET options; before,
	// every membership allowed SET ROLE and the member's INHERIT attribute
	// decided inheritance.
	q := `SELECT m.roleid, m.member, m.admin_option, r.rolinherit, true
		FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member`
	if versionNum >= 160000 {
		q = `SELECT roleid, member, admin_option, inherit_option, set_option FROM pg_auth_members`
	}
	rows, err = tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant, error) {
		var g grant
		err := r.Scan(&g.role, &g.member, &g.admin, &g.inherit, &g.set)
		return g, err
	})
	if err != nil {
		return nil, err
	}
	return newRoleGraph(roles, grants), nil
}

// objPriv is a privilege (or ownership: priv "OWNER") on an object.
type objPriv struct {
	kind    string // table, view, materialized view, foreign table, sequence, schema, database, large object, function, procedure
	object  string // quoted name, e.g. shop.orders; a large object's OID
	column  string // quoted column name, for column privileges
	owner   uint32
	grantee uint32
	priv    string // INSERT, UPDATE, …, or OWNER
}

// writePrivs are the privileges the audit looks at (MAINTAIN: PostgreSQL 17).
var writePrivs = []string{"INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES", "MAINTAIN", "USAGE", "CREATE", "TEMPORARY"}

// loadPrivs reads the write-relevant grants to, and the objects owned by,
// the roles in holders (include 0 for PUBLIC's grants).
func loadPrivs(ctx context.Context, tx pgx.Tx, holders []uint32) ([]objPriv, error) {
	queries := []string{
		// Tables, views, sequences…: grants, then ownership.
		`SELECT ` + relKind + `, format('%I.%I', n.nspname, c.relname), '', c.relowner, a.grantee, a.privilege_type
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL aclexplode(coalesce(c.relacl,
			acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ` + nsFilter + `
			AND a.grantee <> c.relowner AND a.grantee = ANY($1::oid[]) AND a.privilege_type = ANY($2::text[])`,
		`SELECT ` + relKind + `, format('%I.%I', n.nspname, c.relname), '', c.relowner, c.relowner, 'OWNER'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ` + nsFilter + ` AND c.relowner = ANY($1::oid[])`,
		// Column grants.
		`SELECT ` + relKind + `, format('%I.%I', n.nspname, c.relname), quote_ident(att.attname), c.relowner, a.grantee, a.privilege_type
		FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL aclexplode(att.attacl) a
		WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped
			AND c.relkind IN ('r', 'p', 'v', 'f') AND ` + nsFilter + `
			AND a.grantee = ANY($1::oid[]) AND a.privilege_type IN ('INSERT', 'UPDATE', 'REFERENCES')`,
		// Schemas.
		`SELECT 'schema', quote_ident(n.nspname), '', n.nspowner, a.grantee, a.privilege_type
		FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
		WHERE ` + nsFilter + ` AND a.grantee <> n.nspowner AND a.grantee = ANY($1::oid[]) AND a.privilege_type = 'CREATE'`,
		`SELECT 'schema', quote_ident(n.nspname), '', n.nspowner, n.nspowner, 'OWNER'
		FROM pg_namespace n WHERE ` + nsFilter + ` AND n.nspowner = ANY($1::oid[])`,
		// This database.
		`SELECT 'database', quote_ident(d.datname), '', d.datdba, a.grantee, a.privilege_type
		FROM pg_database d CROSS JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
		WHERE d.datname = current_database() AND a.grantee <> d.datdba AND a.grantee = ANY($1::oid[])
			AND a.privilege_type IN ('CREATE', 'TEMPORARY')`,
		`SELECT 'database', quote_ident(d.datname), '', d.datdba, d.datdba, 'OWNER'
		FROM pg_database d WHERE d.datname = current_database() AND d.datdba = ANY($1::oid[])`,
		// Large objects.
		`SELECT 'large object', m.oid::text, '', m.lomowner, a.grantee, a.privilege_type
		FROM pg_largeobject_metadata m CROSS JOIN LATERAL aclexplode(coalesce(m.lomacl, acldefault('L', m.lomowner))) a
		WHERE a.grantee <> m.lomowner AND a.grantee = ANY($1::oid[]) AND a.privilege_type = 'UPDATE'`,
		`SELECT 'large object', m.oid::text, '', m.lomowner, m.lomowner, 'OWNER'
		FROM pg_largeobject_metadata m WHERE m.lomowner = ANY($1::oid[])`,
		// Functions and procedures (ownership only; EXECUTE is looked at
		// for SECURITY DEFINER ones, by definers).
		`SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
			format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '', p.proowner, p.proowner, 'OWNER'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE ` + nsFilter + ` AND p.prokind IN ('f', 'p') AND p.proowner = ANY($1::oid[])`,
	}
	var out []objPriv
	for i, q := range queries {
		args := []any{holders}
		if i == 0 {
			args = append(args, writePrivs)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read privileges (query %d): %w", i+1, err)
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (objPriv, error) {
			var p objPriv
			err := r.Scan(&p.kind, &p.object, &p.column, &p.owner, &p.grantee, &p.priv)
			return p, err
		})
		if err != nil {
			return nil, fmt.Errorf("read privileges (query %d): %w", i+1, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// definer is a SECURITY DEFINER function some acting role can execute.
type definer struct {
	kind, name string
	owner      uint32
	executors  []uint32 // of the roles asked about, those that can run it
}

// loadDefiners lists the SECURITY DEFINER functions and procedures outside
// the system's schemas that any of roles can execute (EXECUTE on it and
// USAGE on its schema, as PostgreSQL's own has_*_privilege answer).
func loadDefiners(ctx context.Context, tx pgx.Tx, roles []uint32) ([]definer, error) {
	rows, err := tx.Query(ctx, `SELECT * FROM (
		SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
			format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.proowner,
			array(SELECT r FROM unnest($1::oid[]) r
				WHERE has_function_privilege(r, p.oid, 'EXECUTE') AND has_schema_privilege(r, n.oid, 'USAGE')) AS executors
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prosecdef AND `+nsFilter+`) f WHERE cardinality(executors) > 0`, roles)
	if err != nil {
		return nil, fmt.Errorf("read SECURITY DEFINER functions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (definer, error) {
		var d definer
		err := r.Scan(&d.kind, &d.name, &d.owner, &d.executors)
		return d, err
	})
}

// loadWritable lists the tables, views and foreign tables PostgreSQL itself
// says the current role can change (INSERT, UPDATE, DELETE, TRUNCATE or
// TRIGGER, inherited grants included): the audit's cross-check.
func loadWritable(ctx context.Context, tx pgx.Tx) ([]objPriv, error) {
	rows, err := tx.Query(ctx, `SELECT `+relKind+`, format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'f') AND `+nsFilter+`
			AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')`)
	if err != nil {
		return nil, fmt.Errorf("cross-check writable tables: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (objPriv, error) {
		var p objPriv
		err := r.Scan(&p.kind, &p.object)
		return p, err
	})
}
