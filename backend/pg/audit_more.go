package pg

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// nameRow is a kind and a quoted name.
type nameRow struct{ kind, name string }

// maxListed bounds the objects one finding names in full.
const maxListed = 20

// largeObjects reports the large objects me can change (as their owner, or
// with UPDATE granted to it or to PUBLIC), lo_compat_privileges, and that
// new large objects can be created.
func (a *auditor) largeObjects(byHolder map[uint32][]power) {
	for _, holder := range []uint32{a.s.me, publicOID} {
		var owned, updatable []string
		for _, p := range byHolder[holder] {
			if p.code != CodeLargeObjectWrite {
				continue
			}
			if p.p.priv == "OWNER" {
				owned = append(owned, p.p.object)
			} else {
				updatable = append(updatable, p.p.object)
			}
		}
		grantee := a.g.ident(holder)
		for _, set := range []struct {
			list    []string
			isOwner bool
		}{{owned, true}, {updatable, false}} {
			list, isOwner := set.list, set.isOwner
			if len(list) == 0 {
				continue
			}
			var fix []string
			for _, oid := range list[:min(len(list), maxListed)] {
				if isOwner {
					fix = append(fix, fmt.Sprintf("ALTER LARGE OBJECT %s OWNER TO new_owner;", oid))
				} else {
					fix = append(fix, fmt.Sprintf("REVOKE UPDATE ON LARGE OBJECT %s FROM %s;", oid, grantee))
				}
			}
			if len(list) > maxListed {
				fix = append(fix, fmt.Sprintf("-- and the same for the other %d", len(list)-maxListed))
			}
			what := "It can overwrite, shorten or extend (UPDATE)"
			if isOwner {
				what = "It owns, so it can overwrite, shorten or delete,"
			}
			detail := fmt.Sprintf("%s %d large object%s (binary data stored outside tables).", what, len(list), plural(len(list)))
			if holder == publicOID {
				detail += " This is granted to PUBLIC, so every role can."
			}
			a.add(Finding{Code: CodeLargeObjectWrite, Severity: SeverityWrite,
				Object: "large object" + plural(len(list)) + " " + listSome(list, 10), Detail: detail, FixSQL: strings.Join(fix, "\n")})
		}
	}
	if a.s.loCompat {
		a.add(Finding{Code: CodeLOCompatPrivileges, Severity: SeverityWrite, Object: "setting lo_compat_privileges",
			Detail: "lo_compat_privileges is on for this session: large objects then ignore permissions, so this role can read, change and delete every large object.",
			FixSQL: fmt.Sprintf("ALTER SYSTEM SET lo_compat_privileges = off;\nSELECT pg_reload_conf();\n-- if it was set for this role or database instead:\nALTER ROLE %s RESET lo_compat_privileges;\nALTER DATABASE %s RESET lo_compat_privileges;", a.meID, a.s.db)})
	}
	if a.s.canCreateLO {
		a.add(Finding{Code: CodeLargeObjectCreate, Severity: SeverityInfo, Object: "functions lo_create, lo_creat, lo_from_bytea",
			Detail: "Like every role by default, it can create new large objects: PostgreSQL allows that even in a read-only session. " +
				"It cannot change or read existing ones without rights on them. Most databases never use large objects.",
			FixSQL: "REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;"})
	}
}

// crossCheck asks PostgreSQL which tables the role can change and reports any
// the grants read above do not explain, so that a case this audit does not
// model still shows up.
func (a *auditor) crossCheck(ctx context.Context, byHolder map[uint32][]power) error {
	for r := range a.inh {
		if rr := a.g.roles[r]; rr != nil && rr.name == "pg_write_all_data" {
			return nil // every table: reported as membership
		}
	}
	explained := map[string]bool{}
	for r := range a.inh {
		for _, p := range byHolder[r] {
			if p.code == CodeTableWrite || p.code == CodeTableOwner {
				explained[p.p.kind+" "+p.p.object] = true
			}
		}
	}
	for _, p := range byHolder[publicOID] {
		if p.code == CodeTableWrite {
			explained[p.p.kind+" "+p.p.object] = true
		}
	}
	writable, err := loadWritable(ctx, a.tx)
	if err != nil {
		return err
	}
	for _, w := range writable {
		obj := w.kind + " " + w.object
		if explained[obj] {
			continue
		}
		a.add(Finding{Code: CodeUnexplainedTableWrite, Severity: SeverityWrite, Object: obj,
			Detail: "PostgreSQL says this role can change this " + w.kind + ", but PgSafe could not tell through which grant. Check its privileges.",
			FixSQL: fmt.Sprintf("-- see who holds which right: \\dp %s\nREVOKE ALL ON TABLE %s FROM %s;", w.object, w.object, a.meID)})
	}
	return nil
}

// missingReads lists what pg_dump reads and this role cannot: CONNECT on the
// database, USAGE on each schema, SELECT on each table and sequence it dumps
// (extension members aside), large objects, and tables whose row-level
// security would make pg_dump stop.
func (a *auditor) missingReads(ctx context.Context) error {
	add := func(object, priv, detail, fix string) {
		a.rep.MissingRead = append(a.rep.MissingRead, MissingRead{Object: object, Privilege: priv, Detail: detail, FixSQL: fix})
	}
	var connect bool
	if err := a.tx.QueryRow(ctx, "SELECT has_database_privilege(current_database(), 'CONNECT')").Scan(&connect); err != nil {
		return fmt.Errorf("check CONNECT: %w", err)
	}
	if !connect {
		add("database "+a.s.db, "CONNECT", "The role may not connect to this database (it is connected now only because the right was revoked since, or through a superuser's session).",
			fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s;", a.s.db, a.meID))
	}
	collect := func(q string, args ...any) ([]nameRow, error) {
		rows, err := a.tx.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (nameRow, error) {
			var x nameRow
			err := r.Scan(&x.kind, &x.name)
			return x, err
		})
	}
	schemas, err := collect(`SELECT 'schema', quote_ident(n.nspname) FROM pg_namespace n
		WHERE ` + nsFilter + ` AND NOT has_schema_privilege(n.oid, 'USAGE') ORDER BY 2`)
	if err != nil {
		return fmt.Errorf("check USAGE on schemas: %w", err)
	}
	for _, s := range schemas {
		add("schema "+s.name, "USAGE", "pg_dump cannot look into this schema, so the backup would fail on its first table.",
			fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s;", s.name, a.meID))
	}
	// pg_dump copies the data of tables (and partitions) and sequences; it
	// skips the data of extension members unless the extension marks them.
	notExtension := `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
		AND NOT EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)))`
	rels, err := collect(`SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'S') AND ` + nsFilter + ` AND ` + notExtension + `
			AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 2`)
	if err != nil {
		return fmt.Errorf("check SELECT on tables: %w", err)
	}
	for _, r := range rels {
		kw := "TABLE"
		if r.kind == "sequence" {
			kw = "SEQUENCE"
		}
		add(r.kind+" "+r.name, "SELECT", "pg_dump cannot read this "+r.kind+", so the backup would fail on it.",
			fmt.Sprintf("GRANT SELECT ON %s %s TO %s;", kw, r.name, a.meID))
	}
	if !a.me.bypassRLS {
		rls, err := collect(`SELECT 'table', format('%I.%I', n.nspname, c.relname)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND ` + nsFilter + `
				AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) ORDER BY 2`)
		if err != nil {
			return fmt.Errorf("check row-level security: %w", err)
		}
		for _, r := range rls {
			add(r.kind+" "+r.name, "BYPASSRLS", "This table has row-level security, which would hide rows from this role; pg_dump stops rather than save part of a table.",
				fmt.Sprintf("ALTER ROLE %s BYPASSRLS;", a.meID))
		}
	}
	return a.missingLargeObjects(ctx, collect)
}

func (a *auditor) missingLargeObjects(ctx context.Context, collect func(string, ...any) ([]nameRow, error)) error {
	if a.s.loCompat {
		return nil
	}
	// Where PostgreSQL has has_largeobject_privilege (18 and later, which
	// also let pg_read_all_data read large objects), it says; before, the
	// owner and the ACL do (pg_read_all_data does not cover large objects up
	// to 17: tested).
	q := `SELECT 'large object', m.oid::text FROM pg_largeobject_metadata m
		WHERE NOT (pg_has_role(m.lomowner, 'USAGE') OR EXISTS (
			SELECT 1 FROM aclexplode(m.lomacl) x WHERE x.privilege_type = 'SELECT' AND (x.grantee = 0 OR pg_has_role(x.grantee, 'USAGE'))))
		ORDER BY m.oid`
	var hasFunc bool
	if err := a.tx.QueryRow(ctx, "SELECT to_regproc('pg_catalog.has_largeobject_privilege') IS NOT NULL").Scan(&hasFunc); err != nil {
		return fmt.Errorf("check SELECT on large objects: %w", err)
	}
	if hasFunc {
		q = `SELECT 'large object', m.oid::text FROM pg_largeobject_metadata m
			WHERE NOT has_largeobject_privilege(m.oid, 'SELECT') ORDER BY m.oid`
	}
	los, err := collect(q)
	if err != nil {
		return fmt.Errorf("check SELECT on large objects: %w", err)
	}
	if len(los) == 0 {
		return nil
	}
	var oids, fix []string
	for _, l := range los {
		oids = append(oids, l.name)
	}
	for _, oid := range oids[:min(len(oids), maxListed)] {
		fix = append(fix, fmt.Sprintf("GRANT SELECT ON LARGE OBJECT %s TO %s;", oid, a.meID))
	}
	if len(oids) > maxListed {
		fix = append(fix, fmt.Sprintf("-- and the same for the other %d", len(oids)-maxListed))
	}
	a.rep.MissingRead = append(a.rep.MissingRead, MissingRead{
		Object: "large object" + plural(len(oids)) + " " + listSome(oids, 10), Privilege: "SELECT",
		Detail: fmt.Sprintf("pg_dump cannot read %d large object%s (binary data stored outside tables), so the backup would fail on them. Before PostgreSQL 18, pg_read_all_data does not cover large objects.", len(oids), plural(len(oids))),
		FixSQL: strings.Join(fix, "\n"),
	})
	return nil
}
