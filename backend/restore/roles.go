package restore

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// RolesProblem says, before anything is written, that the target server
// cannot take the backup's owners and grants as they are: roles the backup
// needs are missing there, or the restoring role cannot give objects to
// their owners. The choices: create the missing roles from the roles saved
// with the backup (Options.CreateRoles), give their objects and grants to
// roles that exist (Options.RoleMap), or restore without owners and
// privileges (Options.NoOwner, NoPrivileges).
type RolesProblem struct {
	// Missing are the roles the backup names (owners, grantees, policies)
	// that the target lacks, after the map.
	Missing []string `json:"missing,omitempty"`
	// Creatable are those of Missing that the roles saved with the backup
	// define; Undefined the others.
	Creatable []string `json:"creatable,omitempty"`
	Undefined []string `json:"undefined,omitempty"`
	// NoSavedRoles says why the backup has no saved roles to create them
	// from ("" when it has).
	NoSavedRoles string `json:"noSavedRoles,omitempty"`
	// MapTargets are roles the map gives objects to that the target lacks.
	MapTargets []string `json:"mapTargets,omitempty"`
	// CannotOwn are owners the restoring role (RestoringRole) cannot give
	// objects to: it is not a superuser nor a member of them.
	CannotOwn     []string `json:"cannotOwn,omitempty"`
	RestoringRole string   `json:"restoringRole,omitempty"`
	// MissingTablespaces are tablespaces the backup puts objects in that the
	// target server lacks (see tablespaces.go): restore without tablespaces
	// (Options.NoTablespaces), or create them on the target first.
	MissingTablespaces []string `json:"missingTablespaces,omitempty"`
}

// rolesIssue says whether the problem is about roles (and not only
// tablespaces).
func (p *RolesProblem) rolesIssue() bool {
	return len(p.Missing) > 0 || len(p.MapTargets) > 0 || len(p.CannotOwn) > 0
}

func (p *RolesProblem) Error() string {
	var parts []string
	if len(p.Missing) > 0 {
		s := fmt.Sprintf("%s the backup needs %s missing on the target server: %s", count(len(p.Missing), "role", "roles"),
			plural(len(p.Missing), "is", "are"), strings.Join(p.Missing, ", "))
		switch {
		case p.NoSavedRoles != "":
			s += " (the backup has no saved roles to create them from: " + p.NoSavedRoles + ")"
		case len(p.Undefined) > 0:
			s += " (the roles saved with the backup do not define " + strings.Join(p.Undefined, ", ") + ")"
		}
		parts = append(parts, s)
	}
	if len(p.MapTargets) > 0 {
		parts = append(parts, "the roles to give objects to do not exist on the target server: "+strings.Join(p.MapTargets, ", "))
	}
	if len(p.CannotOwn) > 0 {
		parts = append(parts, fmt.Sprintf("the restoring role %s is not a superuser nor a member of %s, so it cannot give objects to %s",
			p.RestoringRole, strings.Join(p.CannotOwn, ", "), them(len(p.CannotOwn))))
	}
	if n := len(p.MissingTablespaces); n > 0 {
		parts = append(parts, fmt.Sprintf("the backup puts tables or indexes in %s the target server lacks: %s",
			plural(n, "a tablespace", "tablespaces"), strings.Join(p.MissingTablespaces, ", ")))
	}
	choices := []string{}
	if len(p.MissingTablespaces) > 0 {
		choices = append(choices, "restore without tablespaces (everything in the target's default tablespace)", "create "+them(len(p.MissingTablespaces))+" on the target server first")
	}
	if !p.rolesIssue() {
		return strings.Join(parts, "; ") + ". Nothing was written. Choose: " + strings.Join(choices, ", or ") + "."
	}
	if len(p.Missing) > 0 && len(p.Creatable) == len(p.Missing) {
		choices = append(choices, "create them from the roles saved with the backup (without passwords, unable to log in)")
	}
	if len(p.Missing) > 0 || len(p.CannotOwn) > 0 {
		choices = append(choices, "give their objects to roles that exist")
	}
	choices = append(choices, "restore without owners and privileges")
	if len(p.CannotOwn) > 0 {
		choices = append(choices, "restore as a superuser")
	}
	return strings.Join(parts, "; ") + ". Nothing was written. Choose: " + strings.Join(choices, ", or ") + "."
}

// rolePlan is what a restore does about roles, decided before anything is
// written.
type rolePlan struct {
	schema  []pgtools.Statement // the archive's schema SQL (nil when neither owners nor grants are kept)
	create  []string            // missing roles to create from the saved roles
	globals []byte              // the saved roles' SQL (when creating)
	mapped  bool                // owners, grants and policies are applied after pg_restore, through the map
	toc     *pgtools.TOC        // the archive's table of contents (mapped: policies are left out of pg_restore)
}

// opener opens the plain pg_dump archive (decrypted on the way from the
// storage, or a parallel restore's decrypted copy).
type opener func(ctx context.Context) (io.ReadCloser, error)

// archiveSchema reads the archive's schema SQL (pgtools.SchemaSQL): only the
// start of the stored file is read.
func archiveSchema(ctx context.Context, plain opener, pgRestore string) ([]pgtools.Statement, error) {
	a, err := plain(ctx)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	sql, err := pgtools.SchemaSQL(ctx, pgRestore, a)
	if err != nil {
		return nil, fmt.Errorf("read the roles the backup names: %w", err)
	}
	return pgtools.SplitStatements(string(sql)), nil
}

// archiveTOC reads the archive's table of contents (only the start of the
// stored file is read).
func archiveTOC(ctx context.Context, plain opener, pgRestore string) (*pgtools.TOC, error) {
	a, err := plain(ctx)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return pgtools.List(ctx, pgRestore, a)
}

// neededRoles are the roles the statements name that must exist on the
// target: owners unless noOwner, grantees and grantors unless noPrivileges,
// policies' roles always (pg_restore creates policies either way).
func neededRoles(stmts []pgtools.Statement, noOwner, noPrivileges bool) (needed, owners []string) {
	var keep []pgtools.Statement
	var own []pgtools.Statement
	for _, s := range stmts {
		switch pgtools.StatementKind(s) {
		case "owner":
			if !noOwner {
				keep = append(keep, s)
				own = append(own, s)
			}
		case "privilege":
			if !noPrivileges {
				keep = append(keep, s)
			}
		case "policy":
			keep = append(keep, s)
		}
	}
	return pgtools.NeededRoles(keep), pgtools.NeededRoles(own)
}

// planRoles checks the roles the backup needs against the target server,
// and creates the missing ones when asked (in one transaction): the only
// write before the restore itself, and only when every other check passed.
func planRoles(ctx context.Context, srv *server, plain opener, globalsSrc Source, m *backup.Manifest, kr keys.Keyring, pgRestore string, opts Options) (*rolePlan, error) {
	plan := &rolePlan{mapped: len(opts.RoleMap) > 0}
	if opts.NoOwner && opts.NoPrivileges && !plan.mapped && opts.NoTablespaces {
		return plan, nil
	}
	stmts, err := archiveSchema(ctx, plain, pgRestore)
	if err != nil {
		return nil, err
	}
	p := &RolesProblem{}
	if !opts.NoTablespaces {
		if p.MissingTablespaces, err = srv.missingTablespaces(ctx, stmts); err != nil {
			return nil, err
		}
	}
	if opts.NoOwner && opts.NoPrivileges && !plan.mapped {
		if len(p.MissingTablespaces) > 0 {
			return nil, p
		}
		return plan, nil
	}
	plan.schema = stmts
	if plan.mapped {
		if plan.toc, err = archiveTOC(ctx, plain, pgRestore); err != nil {
			return nil, err
		}
	}
	needed, owners := neededRoles(stmts, opts.NoOwner, opts.NoPrivileges)
	mapName := func(r string) string {
		if to, ok := opts.RoleMap[r]; ok {
			return to
		}
		return r
	}
	var want []string
	for _, r := range needed {
		want = append(want, mapName(r))
	}
	var mapTargets []string
	for _, to := range opts.RoleMap {
		mapTargets = append(mapTargets, to)
	}
	existing, err := srv.roles(ctx, append(append([]string(nil), want...), mapTargets...))
	if err != nil {
		return nil, err
	}
	for _, to := range uniq(mapTargets) {
		if !existing[to] {
			p.MapTargets = append(p.MapTargets, to)
		}
	}
	for _, r := range uniq(want) {
		if !existing[r] {
			p.Missing = append(p.Missing, r)
		}
	}
	if len(p.Missing) > 0 {
		var defined map[string]bool
		if m.Globals == nil {
			p.NoSavedRoles = m.GlobalsMissing
			if p.NoSavedRoles == "" {
				p.NoSavedRoles = "it was made by an older PgSafe, which did not save them"
			}
		} else {
			defined = map[string]bool{}
			for _, r := range m.Globals.Roles {
				defined[r] = true
			}
		}
		for _, r := range p.Missing {
			if defined[r] {
				p.Creatable = append(p.Creatable, r)
			} else {
				p.Undefined = append(p.Undefined, r)
			}
		}
	}
	super, err := srv.superuser(ctx)
	if err != nil {
		return nil, err
	}
	if !super && !opts.NoOwner {
		var ownersNow []string
		for _, r := range owners {
			ownersNow = append(ownersNow, mapName(r))
		}
		member, err := srv.memberOf(ctx, uniq(ownersNow))
		if err != nil {
			return nil, err
		}
		for _, r := range uniq(ownersNow) {
			if !member[r] {
				p.CannotOwn = append(p.CannotOwn, r)
			}
		}
		p.RestoringRole = srv.c.User
	}
	canCreate := opts.CreateRoles && len(p.Missing) > 0 && len(p.Undefined) == 0 && p.NoSavedRoles == ""
	if len(p.MapTargets) > 0 || len(p.CannotOwn) > 0 || len(p.Missing) > 0 && !canCreate || len(p.MissingTablespaces) > 0 {
		return nil, p
	}
	if canCreate {
		g, err := ReadGlobals(ctx, globalsSrc, m, kr)
		if err != nil {
			return nil, err
		}
		plan.globals, plan.create = g, p.Missing
	}
	return plan, nil
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// CreateRoleStatements picks from the saved roles' SQL (pg_dumpall
// --globals-only) the statements that create the roles named in create:
// CREATE ROLE, ALTER ROLE (attributes and settings, not per-database
// ones), COMMENT ON ROLE, and the memberships of those roles in roles that
// exist (exists) or are created too, without GRANTED BY (the restoring role
// grants them). Existing roles are never changed. Unless login, every
// created role ends NOLOGIN: it has no password anyway.
func CreateRoleStatements(globals []byte, create []string, exists func(string) bool, login bool) []string {
	creating := map[string]bool{}
	for _, r := range create {
		creating[r] = true
	}
	var out []string
	for _, st := range pgtools.SplitStatements(string(globals)) {
		toks := pgtools.Tokenize(st.Text)
		if len(toks) < 3 {
			continue
		}
		switch {
		case toks[0].Is("CREATE") && toks[1].Is("ROLE"), toks[0].Is("ALTER") && toks[1].Is("ROLE"):
			if !creating[toks[2].Ident()] || hasWords(toks, "IN", "DATABASE") {
				continue
			}
			out = append(out, st.Text)
		case toks[0].Is("COMMENT") && toks[1].Is("ON") && toks[2].Is("ROLE") && len(toks) > 3:
			if creating[toks[3].Ident()] {
				out = append(out, st.Text)
			}
		case toks[0].Is("GRANT"):
			refs := pgtools.StatementRoles(st)
			_, toIdx := findWord(toks, "TO")
			if toIdx < 0 || len(refs) == 0 {
				continue
			}
			// GRANT group[, …] TO member[, …] [WITH …] [GRANTED BY …]
			var groups []string
			for _, t := range toks[1:toIdx] {
				if t.Kind == pgtools.TokWord || t.Kind == pgtools.TokQuoted {
					groups = append(groups, t.Ident())
				}
			}
			member := refs[0].Name
			if !creating[member] || len(groups) != 1 || !(creating[groups[0]] || exists(groups[0])) {
				continue
			}
			text := st.Text
			if i, _ := findWord(toks, "GRANTED"); i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
			out = append(out, text)
		}
	}
	if !login {
		for _, r := range create {
			out = append(out, "ALTER ROLE "+pgtools.QuoteIdent(r)+" NOLOGIN")
		}
	}
	return out
}

// findWord returns the byte offset and token index of the first keyword w.
func findWord(toks []pgtools.Token, w string) (int, int) {
	for i, t := range toks {
		if t.Is(w) {
			return t.Start, i
		}
	}
	return -1, -1
}

func hasWords(toks []pgtools.Token, a, b string) bool {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].Is(a) && toks[i+1].Is(b) {
			return true
		}
	}
	return false
}

// createRoles runs the statements creating plan.create in one transaction.
func (s *server) createRoles(ctx context.Context, plan *rolePlan, login bool) error {
	existing, err := s.roles(ctx, nil)
	if err != nil {
		return err
	}
	stmts := CreateRoleStatements(plan.globals, plan.create, func(r string) bool { return existing[r] }, login)
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st); err != nil {
			return fmt.Errorf("create the roles %s from the roles saved with the backup (nothing was created): %w", strings.Join(plan.create, ", "), err)
		}
	}
	return tx.Commit(ctx)
}

// applyOwnersAndGrants gives the restored objects their owners and grants,
// and creates the row security policies, through the map, in one
// transaction in the restored database: the archive's owner, privilege and
// policy statements, with every role they name rewritten (never object
// names, function bodies or data).
func applyOwnersAndGrants(ctx context.Context, target pgtools.Conn, stmts []pgtools.Statement, roleMap map[string]string, noOwner, noPrivileges bool) (int, error) {
	cfg, err := target.PgxConfig()
	if err != nil {
		return 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("connect to the restored database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_catalog.set_config('search_path', '', true)"); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range stmts {
		switch pgtools.StatementKind(s) {
		case "owner":
			if noOwner {
				continue
			}
		case "privilege":
			if noPrivileges {
				continue
			}
		case "policy":
		default:
			continue
		}
		mapped := pgtools.MapStatementRoles(s, roleMap).Text
		if _, err := tx.Exec(ctx, mapped, pgx.QueryExecModeSimpleProtocol); err != nil {
			return 0, fmt.Errorf("give the restored objects their mapped owners and grants (%s): %w", firstLine(mapped), err)
		}
		n++
	}
	return n, tx.Commit(ctx)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// roles says which of names exist on the server (nil names: every role).
func (s *server) roles(ctx context.Context, names []string) (map[string]bool, error) {
	q, args := "SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", []any{names}
	if names == nil {
		q, args = "SELECT rolname FROM pg_roles", nil
	}
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read the target server's roles: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the target server's roles: %w", err)
	}
	out := map[string]bool{}
	for _, r := range got {
		out[r] = true
	}
	return out, nil
}

// memberOf says which of the existing roles names the restoring role is a
// member of (and so can give objects to).
func (s *server) memberOf(ctx context.Context, names []string) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, `SELECT rolname FROM pg_roles WHERE rolname = ANY($1) AND pg_has_role(current_user, oid, 'MEMBER')`, names)
	if err != nil {
		return nil, fmt.Errorf("read the restoring role's memberships: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the restoring role's memberships: %w", err)
	}
	out := map[string]bool{}
	for _, r := range got {
		out[r] = true
	}
	return out, nil
}
