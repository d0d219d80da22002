package pg

import "strings"

// publicOID stands for PUBLIC in ACLs (aclexplode's grantee 0).
const publicOID uint32 = 0

// role is a row of pg_roles.
type role struct {
	oid                    uint32
	name                   string // as stored
	ident                  string // quoted for SQL (quote_ident)
	super, inherit         bool
	createRole, createDB   bool
	replication, bypassRLS bool
}

// grant is a row of pg_auth_members: member is a member of role. inherit:
// member uses role's privileges without SET ROLE; set: member may SET ROLE to
// it. Before PostgreSQL 16 every membership allows SET ROLE and inheritance
// follows the member's INHERIT attribute; from 16 on each grant says.
type grant struct {
	role, member        uint32
	admin, inherit, set bool
}

// roleGraph answers which roles a role can act as.
type roleGraph struct {
	roles    map[uint32]*role
	byName   map[string]*role
	byMember map[uint32][]grant
}

func newRoleGraph(roles []*role, grants []grant) *roleGraph {
	g := &roleGraph{roles: map[uint32]*role{}, byName: map[string]*role{}, byMember: map[uint32][]grant{}}
	for _, r := range roles {
		g.roles[r.oid] = r
		g.byName[r.name] = r
	}
	for _, m := range grants {
		g.byMember[m.member] = append(g.byMember[m.member], m)
	}
	return g
}

// reach is how a role reaches another: the chain of roles after the start
// (the last is the reached role), and whether it needs SET ROLE.
type reach struct {
	path    []uint32
	setRole bool // false: inherited, in effect in every session
}

// walk finds every role reachable from start over edges that follow
// accepts, with the shortest chain to each (start itself has an empty chain).
func (g *roleGraph) walk(start uint32, follow func(grant) bool) map[uint32][]uint32 {
	out := map[uint32][]uint32{start: nil}
	queue := []uint32{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, m := range g.byMember[cur] {
			if _, seen := out[m.role]; seen || !follow(m) {
				continue
			}
			out[m.role] = append(append([]uint32{}, out[cur]...), m.role)
			queue = append(queue, m.role)
		}
	}
	return out
}

// inherits lists the roles whose privileges start uses without SET ROLE
// (start included).
func (g *roleGraph) inherits(start uint32) map[uint32][]uint32 {
	return g.walk(start, func(m grant) bool { return m.inherit })
}

// settable lists the roles start can SET ROLE to (start included). A grant
// WITH ADMIN OPTION counts too: its holder can grant the role to itself.
func (g *roleGraph) settable(start uint32) map[uint32][]uint32 {
	return g.walk(start, func(m grant) bool { return m.set || m.admin })
}

// acts lists every role whose privileges start can exercise: inherited
// ones directly, and after SET ROLE s, whatever s inherits.
func (g *roleGraph) acts(start uint32) map[uint32]reach {
	out := map[uint32]reach{}
	for r, p := range g.inherits(start) {
		out[r] = reach{path: p}
	}
	for s, sp := range g.settable(start) {
		for r, p := range g.inherits(s) {
			if _, ok := out[r]; ok {
				continue
			}
			out[r] = reach{path: append(append([]uint32{}, sp...), p...), setRole: true}
		}
	}
	return out
}

// ident is a role's quoted name; PUBLIC for 0.
func (g *roleGraph) ident(oid uint32) string {
	if oid == publicOID {
		return "PUBLIC"
	}
	if r := g.roles[oid]; r != nil {
		return r.ident
	}
	return "<role " + itoa(oid) + ">"
}

// chain names start and the roles of path, joined by arrows.
func (g *roleGraph) chain(start uint32, path []uint32) string {
	names := []string{g.ident(start)}
	for _, r := range path {
		names = append(names, g.ident(r))
	}
	return strings.Join(names, " → ")
}

// lastHop is the membership nearest to the reached role: the one to revoke
// so that this path no longer reaches it, without touching the roles before.
func (g *roleGraph) lastHop(start uint32, path []uint32) (role, member uint32) {
	if len(path) == 1 {
		return path[0], start
	}
	return path[len(path)-1], path[len(path)-2]
}
