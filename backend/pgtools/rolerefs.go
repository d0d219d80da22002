package pgtools

import (
	"sort"
	"strings"
)

// RoleRef is a role named in a statement of an archive's SQL: an owner
// (`ALTER … OWNER TO r`), a grantee or grantor (GRANT, REVOKE, ALTER DEFAULT
// PRIVILEGES … FOR ROLE r), a policy's role (`CREATE POLICY … TO r`) or the
// session a statement runs as (`SET SESSION AUTHORIZATION r`).
type RoleRef struct {
	Name string // the role's name (identifier rules applied)
	Tok  Token  // where it is written in the statement
}

// IsBuiltinRole reports names that never need to exist or be created on a
// target: PUBLIC, the CURRENT_USER-style keywords and the predefined pg_
// roles (no user role may start with pg_).
func IsBuiltinRole(name string) bool {
	switch name {
	case "public", "current_user", "session_user", "current_role":
		return true
	}
	return strings.HasPrefix(name, "pg_")
}

// StatementRoles returns the roles a statement names as owner, grantee,
// grantor, policy role or session user. Keyword role specifications
// (PUBLIC, CURRENT_USER, …) are left out.
func StatementRoles(s Statement) []RoleRef {
	toks := Tokenize(s.Text)
	if len(toks) == 0 {
		return nil
	}
	var refs []RoleRef
	add := func(t Token) {
		if t.Kind == TokQuoted || t.Kind == TokWord && !isRoleKeyword(t.Text) {
			refs = append(refs, RoleRef{Name: t.Ident(), Tok: t})
		} else if t.Kind == TokString && len(t.Text) >= 2 && t.Text[0] == '\'' { // SET SESSION AUTHORIZATION 'r'
			refs = append(refs, RoleRef{Name: strings.ReplaceAll(t.Text[1:len(t.Text)-1], "''", "'"), Tok: t})
		}
	}
	// roleList adds the comma-separated roles from toks[i] on, stopping at
	// any word in stop or a parenthesis; it returns where it stopped.
	roleList := func(i int, stop ...string) int {
		for i < len(toks) {
			t := toks[i]
			if t.Kind == TokPunct && t.Text != "," || t.Kind == TokWord && oneOf(t, stop) {
				return i
			}
			if t.Is("GROUP") && i+1 < len(toks) { // GRANT … TO GROUP r (old syntax)
				i++
				continue
			}
			if t.Kind != TokPunct {
				add(t)
			}
			i++
		}
		return i
	}
	first := toks[0]
	switch {
	case first.Is("SET") && len(toks) >= 4 && toks[1].Is("SESSION") && toks[2].Is("AUTHORIZATION"):
		add(toks[3])
	case first.Is("ALTER") && len(toks) > 3 && toks[1].Is("DEFAULT") && toks[2].Is("PRIVILEGES"):
		i := 3
		if toks[i].Is("FOR") && i+1 < len(toks) && (toks[i+1].Is("ROLE") || toks[i+1].Is("USER")) {
			i = roleList(i+2, "IN", "GRANT", "REVOKE")
		}
		for i < len(toks) && !toks[i].Is("GRANT") && !toks[i].Is("REVOKE") {
			i++
		}
		grantRoles(toks, i, roleList)
	case first.Is("ALTER"):
		for i := 1; i+2 < len(toks); i++ {
			if toks[i].Is("OWNER") && toks[i+1].Is("TO") {
				add(toks[i+2])
				break
			}
		}
	case first.Is("GRANT") || first.Is("REVOKE"):
		grantRoles(toks, 0, roleList)
	case first.Is("CREATE") && len(toks) > 2 && toks[1].Is("POLICY"):
		depth := 0
		for i := 2; i < len(toks); i++ {
			switch {
			case toks[i].Text == "(":
				depth++
			case toks[i].Text == ")":
				depth--
			case depth == 0 && toks[i].Is("TO"):
				roleList(i+1, "USING", "WITH")
				i = len(toks)
			}
		}
	}
	return refs
}

// grantRoles reads a GRANT or REVOKE starting at toks[i]: grantees after TO
// (GRANT) or FROM (REVOKE) at depth 0, and a grantor after GRANTED BY.
func grantRoles(toks []Token, i int, roleList func(int, ...string) int) {
	if i >= len(toks) {
		return
	}
	kw := "TO"
	if toks[i].Is("REVOKE") {
		kw = "FROM"
	}
	depth := 0
	for j := i + 1; j < len(toks); j++ {
		switch {
		case toks[j].Text == "(":
			depth++
		case toks[j].Text == ")":
			depth--
		case depth == 0 && toks[j].Is(kw):
			j = roleList(j+1, "WITH", "GRANTED", "CASCADE", "RESTRICT")
			for ; j+1 < len(toks); j++ {
				if toks[j].Is("GRANTED") && toks[j+1].Is("BY") {
					roleList(j+2, "CASCADE", "RESTRICT", "WITH")
					break
				}
			}
			return
		}
	}
}

func oneOf(t Token, words []string) bool {
	for _, w := range words {
		if t.Is(w) {
			return true
		}
	}
	return false
}

// isRoleKeyword: role specifications that are keywords, not role names.
func isRoleKeyword(w string) bool {
	switch strings.ToLower(w) {
	case "public", "current_user", "session_user", "current_role":
		return true
	}
	return false
}

// NeededRoles returns the roles the statements name (see StatementRoles),
// sorted and without duplicates, built-in roles left out (IsBuiltinRole).
func NeededRoles(stmts []Statement) []string {
	seen := map[string]bool{}
	for _, s := range stmts {
		for _, r := range StatementRoles(s) {
			if !IsBuiltinRole(r.Name) {
				seen[r.Name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// MapStatementRoles rewrites the roles a statement names by m (old name →
// new name); names not in m stay as written. Only role positions change:
// an object whose name equals a role's is left alone.
func MapStatementRoles(s Statement, m map[string]string) Statement {
	refs := StatementRoles(s)
	if len(refs) == 0 || len(m) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		to, ok := m[r.Name]
		if !ok {
			continue
		}
		b.WriteString(s.Text[last:r.Tok.Start])
		b.WriteString(QuoteIdent(to))
		last = r.Tok.End
	}
	b.WriteString(s.Text[last:])
	return Statement{Text: b.String()}
}

// StatementKind says what a statement of an archive's SQL does with roles:
// "owner" (ALTER … OWNER TO), "privilege" (GRANT, REVOKE, ALTER DEFAULT
// PRIVILEGES, and the SET/RESET SESSION AUTHORIZATION pg_dump puts around a
// grant made by another role), "policy" (CREATE POLICY), or "".
func StatementKind(s Statement) string {
	toks := Tokenize(s.Text)
	if len(toks) < 2 {
		return ""
	}
	switch {
	case toks[0].Is("GRANT"), toks[0].Is("REVOKE"):
		return "privilege"
	case (toks[0].Is("SET") || toks[0].Is("RESET")) && toks[1].Is("SESSION") && len(toks) > 2 && toks[2].Is("AUTHORIZATION"):
		return "privilege"
	case toks[0].Is("ALTER") && toks[1].Is("DEFAULT") && len(toks) > 2 && toks[2].Is("PRIVILEGES"):
		return "privilege"
	case toks[0].Is("CREATE") && toks[1].Is("POLICY"):
		return "policy"
	case toks[0].Is("ALTER"):
		for i := 1; i+1 < len(toks); i++ {
			if toks[i].Is("OWNER") && toks[i+1].Is("TO") {
				return "owner"
			}
		}
	}
	return ""
}
