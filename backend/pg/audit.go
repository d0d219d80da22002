package pg

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Audit reports every way the connected role (current_user) could change
// data in the connected database, or give itself that power, and whatever
// pg_dump would need to read and cannot. It only reads the catalogs, in one
// read-only transaction. docs/PRIVILEGES.md describes each check.
func Audit(ctx context.Context, conn *pgx.Conn) (Report, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Report{}, fmt.Errorf("audit: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	a, err := newAuditor(ctx, tx)
	if err != nil {
		return Report{}, fmt.Errorf("audit: %w", err)
	}
	if err := a.run(ctx); err != nil {
		return Report{}, fmt.Errorf("audit of role %s: %w", a.me.name, err)
	}
	a.rep.finish()
	return a.rep, nil
}

type auditor struct {
	tx   pgx.Tx
	s    session
	g    *roleGraph
	me   *role
	meID string // quoted
	rep  Report

	inh  map[uint32][]uint32 // roles whose rights me uses in every session
	sets map[uint32][]uint32 // roles me can SET ROLE to
	acts map[uint32]reach    // roles whose rights me can use, one way or the other
}

func newAuditor(ctx context.Context, tx pgx.Tx) (*auditor, error) {
	s, err := loadSession(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("read the session: %w", err)
	}
	g, err := loadRoles(ctx, tx, s.versionNum)
	if err != nil {
		return nil, fmt.Errorf("read roles and memberships: %w", err)
	}
	me := g.roles[s.me]
	if me == nil {
		return nil, fmt.Errorf("the current role (oid %d) is not in pg_roles", s.me)
	}
	a := &auditor{tx: tx, s: s, g: g, me: me, meID: me.ident,
		rep:  Report{Role: me.name, Database: s.db, ServerVersion: s.versionNum},
		inh:  g.inherits(s.me),
		sets: g.settable(s.me),
		acts: g.acts(s.me),
	}
	return a, nil
}

func (a *auditor) add(f Finding) { a.rep.Findings = append(a.rep.Findings, f) }

func (a *auditor) run(ctx context.Context) error {
	if a.me.super {
		fix, err := suggestReadOnlyRole(ctx, a.tx)
		if err != nil {
			return err
		}
		a.add(Finding{Code: CodeSuperuser, Severity: SeverityWrite, Object: "role " + a.meID,
			Detail: a.meID + " is a superuser: it can read, change and delete everything in every database of this server, " +
				"and no permission applies to it. Leave it as it is (it may be the server's only superuser, and others rely on it): " +
				"back up with a dedicated read-only role instead. PgSafe's guided setup creates one with a generated password " +
				"and keeps only its credentials; the SQL below is what it runs.",
			FixSQL: fix})
		return nil
	}
	a.attributes()
	defs, err := loadDefiners(ctx, a.tx, a.setList())
	if err != nil {
		return err
	}
	holders := map[uint32]bool{publicOID: true}
	for r := range a.acts {
		holders[r] = true
	}
	for _, d := range defs {
		for r := range a.g.inherits(d.owner) {
			holders[r] = true
		}
	}
	privs, err := loadPrivs(ctx, a.tx, slices.Sorted(maps.Keys(holders)))
	if err != nil {
		return err
	}
	byHolder := map[uint32][]power{}
	for _, p := range privs {
		if pw, ok := privPower(p); ok {
			byHolder[p.grantee] = append(byHolder[p.grantee], pw)
		}
	}
	a.ownPowers(byHolder[a.s.me], a.meID)
	a.ownPowers(byHolder[publicOID], "PUBLIC")
	a.memberships(byHolder)
	a.definers(defs, byHolder)
	a.largeObjects(byHolder)
	if err := a.crossCheck(ctx, byHolder); err != nil {
		return err
	}
	return a.missingReads(ctx)
}

// setList is me and the roles it can SET ROLE to, me first.
func (a *auditor) setList() []uint32 {
	out := []uint32{a.s.me}
	for _, r := range slices.Sorted(maps.Keys(a.sets)) {
		if r != a.s.me {
			out = append(out, r)
		}
	}
	return out
}

// attributes reports me's own role attributes.
func (a *auditor) attributes() {
	alter := func(opt string) string { return "ALTER ROLE " + a.meID + " " + opt + ";" }
	obj := "role " + a.meID
	if a.me.createRole {
		detail := "It can create roles and, up to PostgreSQL 15, make any role (itself included) a member of any other non-superuser role, " +
			"such as the owner of the data or pg_write_all_data: that is write access."
		if a.s.versionNum >= 160000 {
			detail = "It can create new roles and manage those it created. Since PostgreSQL 16 it cannot give itself other roles' rights, " +
				"but it is an administrator's power a backup role does not need."
		}
		a.add(Finding{Code: CodeCreateRole, Severity: createRoleSeverity(a.s.versionNum), Object: obj, Detail: detail, FixSQL: alter("NOCREATEROLE")})
	}
	if a.me.createDB {
		a.add(Finding{Code: CodeCreateDB, Severity: SeverityWarning, Object: obj,
			Detail: "It can create new databases. That changes none of the existing data, but a backup role does not need it.",
			FixSQL: alter("NOCREATEDB")})
	}
	if a.me.replication {
		a.add(Finding{Code: CodeReplication, Severity: SeverityWarning, Object: obj,
			Detail: "It can stream every change of every database on this server and copy the server's files, past all table permissions, " +
				"and create replication slots that make the server keep old WAL (which can fill its disk). It cannot change data. pg_dump does not need it.",
			FixSQL: alter("NOREPLICATION")})
	}
	if a.me.bypassRLS {
		a.add(Finding{Code: CodeBypassRLS, Severity: SeverityWarning, Object: obj,
			Detail: "It ignores row-level security, so it reads rows that policies hide from other roles. It cannot change data. " +
				"A backup needs it only for tables with row-level security; keep it then.",
			FixSQL: alter("NOBYPASSRLS")})
	}
}

// ownPowers reports the powers granted to me itself, or to PUBLIC (every
// role), or that me has as an owner; grantee is their quoted name.
func (a *auditor) ownPowers(ps []power, grantee string) {
	public := grantee == "PUBLIC"
	via := ""
	if public {
		via = " This is granted to PUBLIC, so every role has it."
	}
	type key struct{ code, kind, object string }
	groups := map[key][]power{}
	var order []key
	for _, p := range ps {
		if p.code == CodeLargeObjectWrite { // summarised in largeObjects
			continue
		}
		k := key{p.code, p.p.kind, p.p.object}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	for _, k := range order {
		g := groups[k]
		obj := k.kind + " " + k.object
		privs := uniq(g, func(p power) string { return p.p.priv })
		f := Finding{Code: k.code, Severity: g[0].severity, Object: obj}
		switch k.code {
		case CodeTableOwner, CodeSchemaOwner, CodeDatabaseOwner, CodeFunctionOwner:
			f.Detail = ownerDetail(k.kind, a.meID)
			f.FixSQL = fmt.Sprintf("-- Better: back up with a dedicated read-only role (PgSafe's guided setup creates one). Or give the %s another owner:\nALTER %s %s OWNER TO new_owner;",
				k.kind, sqlKind(k.kind), k.object)
		case CodeTableWrite:
			f.Detail = fmt.Sprintf("It can %s this %s.%s", joinAnd(verbs(privs)), k.kind, via)
			f.FixSQL = fmt.Sprintf("REVOKE %s ON TABLE %s FROM %s;", strings.Join(privs, ", "), k.object, grantee)
		case CodeColumnWrite:
			var parts, words []string
			for _, priv := range privs {
				cols := uniq(g, func(p power) string {
					if p.p.priv == priv {
						return p.p.column
					}
					return ""
				})
				parts = append(parts, fmt.Sprintf("%s (%s)", priv, strings.Join(cols, ", ")))
				words = append(words, fmt.Sprintf("%s column%s %s", priv, plural(len(cols)), joinAnd(cols)))
			}
			f.Detail = fmt.Sprintf("It can %s of this %s: a column-level grant, which changes stored data just like a table-level one.%s",
				joinAnd(words), k.kind, via)
			f.FixSQL = fmt.Sprintf("REVOKE %s ON TABLE %s FROM %s;", strings.Join(parts, ", "), k.object, grantee)
		case CodeTableReferences:
			f.Detail = "It can create foreign keys that point at this table (REFERENCES), which can stop other roles from deleting or changing its rows. " +
				"It cannot change the table's data itself." + via
			f.FixSQL = fmt.Sprintf("REVOKE REFERENCES ON TABLE %s FROM %s;", k.object, grantee)
		case CodeTableMaintain:
			f.Detail = "It can VACUUM, ANALYZE, CLUSTER, REINDEX and LOCK this " + k.kind + " and REFRESH it if it is a materialized view (MAINTAIN). " +
				"That rewrites storage and can block other sessions, but changes no rows." + via
			f.FixSQL = fmt.Sprintf("REVOKE MAINTAIN ON TABLE %s FROM %s;", k.object, grantee)
		case CodeSequenceWrite:
			f.Detail = fmt.Sprintf("It can advance or reset this sequence (%s: nextval%s), which changes the numbers the application hands out next.%s",
				strings.Join(privs, ", "), map[bool]string{true: " and setval", false: ""}[slices.Contains(privs, "UPDATE")], via)
			f.FixSQL = fmt.Sprintf("REVOKE %s ON SEQUENCE %s FROM %s;", strings.Join(privs, ", "), k.object, grantee)
		case CodeSchemaCreate:
			f.Detail = "It can create tables, functions and other objects in this schema: that adds to the stored data, and an object named like " +
				"an existing one can take its place for roles whose search_path lists this schema first." + via
			if public && k.object == "public" {
				f.Detail += " Before PostgreSQL 15 this was the default for schema public."
			}
			f.FixSQL = fmt.Sprintf("REVOKE CREATE ON SCHEMA %s FROM %s;", k.object, grantee)
		case CodeDatabaseCreate:
			f.Detail = "It can create new schemas in this database, and in them tables and functions: that adds to the stored data." + via
			f.FixSQL = fmt.Sprintf("REVOKE CREATE ON DATABASE %s FROM %s;", k.object, grantee)
		case CodeDatabaseTemp:
			f.Detail = "It can create temporary tables. They vanish at the end of the session and change no stored data, " +
				"but use the server's disk while they exist. A backup does not need them."
			f.FixSQL = fmt.Sprintf("REVOKE TEMPORARY ON DATABASE %s FROM %s;", k.object, grantee)
			if public {
				// PostgreSQL's default for every database: every role has
				// it, the one PgSafe's own setup creates too. A note, not a
				// warning: nothing about this role is wrong.
				f.Severity = SeverityInfo
				f.Detail = "Like every role, it can create temporary tables here: PostgreSQL grants TEMPORARY on every database to PUBLIC by default. " +
					"Temporary tables vanish at the end of the session and change no stored data. Nothing to do; " +
					"revoking it from PUBLIC is optional and affects every role that relies on it."
				f.FixSQL = fmt.Sprintf("-- optional, for every role:\nREVOKE TEMPORARY ON DATABASE %s FROM PUBLIC;\n-- roles that need temporary tables then need: GRANT TEMPORARY ON DATABASE %s TO that_role;", k.object, k.object)
			}
		default:
			f.Detail = "It can " + joinAnd(phrases(g)) + "." + via
		}
		a.add(f)
	}
}

func ownerDetail(kind, me string) string {
	switch kind {
	case "schema":
		return "It owns this schema: it can drop or rename it, and drop any object in it, whoever owns that object."
	case "database":
		return "It owns this database: it can drop it, rename it, change its settings, and (PostgreSQL 15 and later) it owns schema public."
	case "function", "procedure":
		return "It owns this " + kind + ": it can change what it does, and other roles that call it then run the new code with their own rights."
	}
	return "It owns this " + kind + ": an owner can always change, empty or drop it, whatever the grants say (" + me + " could even grant itself back any revoked right)."
}

// memberships reports the roles me is a member of, directly or not, that
// carry power: superusers (after SET ROLE), PostgreSQL's predefined roles,
// and roles holding write grants or ownerships.
func (a *auditor) memberships(byHolder map[uint32][]power) {
	for _, r := range slices.Sorted(maps.Keys(a.acts)) {
		if r == a.s.me {
			continue
		}
		rc := a.acts[r]
		gr := a.g.roles[r]
		if gr == nil {
			continue
		}
		hopRole, hopMember := a.g.lastHop(a.s.me, rc.path)
		fix := fmt.Sprintf("REVOKE %s FROM %s;", a.g.ident(hopRole), a.g.ident(hopMember))
		chain := a.g.chain(a.s.me, rc.path)
		how := fmt.Sprintf("%s is a member of %s (%s) and uses its rights in every session.", a.meID, gr.ident, chain)
		if rc.setRole {
			how = fmt.Sprintf("%s can switch to role %s with SET ROLE (%s). PgSafe never does, but anyone holding these credentials can.", a.meID, gr.ident, chain)
		}
		_, settable := a.sets[r]
		if gr.super && settable {
			a.add(Finding{Code: CodeMemberOfSuperuser, Severity: SeverityWrite, Object: "role " + gr.ident,
				Detail: fmt.Sprintf("%s can switch to role %s with SET ROLE (%s), and %s is a superuser: it can then change everything on this server.",
					a.meID, gr.ident, chain, gr.ident),
				FixSQL: fix})
			continue
		}
		if pd, ok := predefined[gr.name]; ok {
			f := Finding{Code: pd.code, Severity: pd.severity, Object: "role " + gr.ident, Detail: how + " It " + pd.what + ".", FixSQL: fix}
			if pd.severity == SeverityInfo {
				f.Detail, f.FixSQL = "It "+pd.what+" through its membership ("+chain+"): exactly what a backup needs, and nothing more.", ""
			}
			a.add(f)
			continue
		}
		ps := slices.Clone(byHolder[r])
		if settable {
			ps = append(ps, attrPowers(gr, a.s.versionNum)...)
		}
		if len(ps) == 0 {
			continue
		}
		code := CodeMemberWithWarnings
		switch sev := worst(ps); {
		case sev == SeverityWrite && rc.setRole:
			code = CodeCanSetRoleWriter
		case sev == SeverityWrite:
			code = CodeMemberOfWriter
		case sev == SeverityInfo:
			continue
		}
		a.add(Finding{Code: code, Severity: worst(ps), Object: "role " + gr.ident,
			Detail: fmt.Sprintf("%s Rights of %s: %s.", how, gr.ident, listSome(phrases(ps), 6)),
			FixSQL: fix})
	}
}

// definers reports SECURITY DEFINER functions me can run that run with the
// rights of a role that can write.
func (a *auditor) definers(defs []definer, byHolder map[uint32][]power) {
	for _, d := range defs {
		if _, mine := a.acts[d.owner]; mine {
			continue // its owner's powers are me's own, reported above
		}
		owner := a.g.roles[d.owner]
		var from []string
		for _, e := range d.executors {
			if r := a.g.roles[e]; r != nil && !r.super { // a superuser needs no function: reported as such
				from = append(from, r.ident)
			}
		}
		if owner == nil || len(from) == 0 {
			continue
		}
		var ps []power
		if owner.super {
			ps = append(ps, power{severity: SeverityWrite, phrase: "is a superuser"})
		} else {
			if owner.createRole && a.s.versionNum < 160000 {
				ps = append(ps, power{severity: SeverityWrite, phrase: "has CREATEROLE"})
			}
			for r := range a.g.inherits(d.owner) {
				if rr := a.g.roles[r]; rr != nil {
					if pd, ok := predefined[rr.name]; ok && pd.severity == SeverityWrite {
						ps = append(ps, power{severity: SeverityWrite, phrase: "is a member of " + rr.ident})
					}
				}
				for _, p := range byHolder[r] {
					if p.severity == SeverityWrite && p.code != CodeFunctionOwner {
						ps = append(ps, p)
					}
				}
			}
		}
		if worst(ps) != SeverityWrite {
			continue
		}
		var writes []power
		for _, p := range ps {
			if p.severity == SeverityWrite {
				writes = append(writes, p)
			}
		}
		a.add(Finding{Code: CodeSecurityDefiner, Severity: SeverityWrite, Object: d.kind + " " + d.name,
			Detail: fmt.Sprintf("%s can run this SECURITY DEFINER %s, which runs with the rights of its owner %s; rights of %s: %s. "+
				"If the %s only reads, this is harmless; if it writes, %s can make it write.",
				a.meID, d.kind, owner.ident, owner.ident, listSome(phrases(writes), 4), d.kind, a.meID),
			FixSQL: fmt.Sprintf("-- if the application calls it, grant EXECUTE to the application's role instead of PUBLIC\nREVOKE EXECUTE ON %s %s FROM PUBLIC, %s;",
				strings.ToUpper(d.kind), d.name, strings.Join(from, ", "))})
	}
}

func verbs(privs []string) []string {
	var out []string
	for _, p := range privs {
		switch p {
		case "INSERT":
			out = append(out, "add rows to (INSERT)")
		case "UPDATE":
			out = append(out, "change rows of (UPDATE)")
		case "DELETE":
			out = append(out, "delete rows of (DELETE)")
		case "TRUNCATE":
			out = append(out, "empty (TRUNCATE)")
		case "TRIGGER":
			out = append(out, "add triggers to (TRIGGER: code that then runs with the rights of whoever writes to it)")
		default:
			out = append(out, p)
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// uniq lists f's non-empty values over ps, in order, without repeats.
func uniq(ps []power, f func(power) string) []string {
	var out []string
	for _, p := range ps {
		if v := f(p); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
