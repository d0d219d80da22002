package cli

import (
	"errors"
	"strings"

	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/keys"
	"github.com/pgsafe/pgsafe/backend/restore"
	"github.com/pgsafe/pgsafe/backend/store"
)

const wrongKeyAdvice = "import its recovery kit (`pgsafe key import KIT`), or pass the kit with --key-file KIT"

// advice is what to type next after err, for errors whose way out is a
// command; the engine's errors name none (they reach the window too).
func advice(err error) string {
	var row *store.DamagedRowError
	if errors.As(err, &row) {
		return "check the audit log (`pgsafe audit verify`); `pgsafe settings check` lists such rows and " +
			"`pgsafe settings check --forget-damaged` removes damaged history records and schedules; " +
			"if you made the change yourself, `pgsafe settings accept --yes` takes the file as it is"
	}
	var mod *store.ModifiedError
	if errors.As(err, &mod) {
		return "if you restored or edited the file yourself: `pgsafe settings accept --yes`; otherwise check the audit log " +
			"(`pgsafe audit verify`), or move " + mod.Path + " away and set up again (`pgsafe storage add`, then " +
			"`pgsafe backups --storage NAME` lists what a storage holds)"
	}
	var nf *engine.NotFoundError
	if errors.As(err, &nf) {
		return "list them with `pgsafe " + nf.Kind + " list`"
	}
	var wk *keys.WrongKeyError
	if errors.As(err, &wk) {
		return wrongKeyAdvice
	}
	var rp *restore.RolesProblem
	if errors.As(err, &rp) {
		return rolesAdvice(rp)
	}
	var ra adviceFromAgent
	if errors.As(err, &ra) {
		return ra.advice
	}
	if errors.Is(err, engine.ErrNoClientID) {
		return "give your own OAuth client: `pgsafe settings oauth set KIND --client-id ID [--client-secret-stdin]`, " +
			"or `--client-id ID` on `pgsafe storage add` (docs/STORAGE.md says how to register one)"
	}
	var de *store.DamagedError
	if errors.As(err, &de) {
		return "to get your backups back: add each storage again (`pgsafe storage add …`), list what it holds " +
			"(`pgsafe backups --storage NAME`) and restore from it (`pgsafe restore --storage NAME ID|latest …`); " +
			"to keep the settings elsewhere, set PGSAFE_HOME to a new folder"
	}
	return ""
}

// rolesAdvice names the restore flags that answer a roles problem.
func rolesAdvice(p *restore.RolesProblem) string {
	var ways []string
	if len(p.MissingTablespaces) > 0 {
		ways = append(ways, "--no-tablespaces puts everything in the target's default tablespace (or create "+
			strings.Join(p.MissingTablespaces, ", ")+" on the target first)")
		if len(p.Missing) == 0 && len(p.CannotOwn) == 0 && len(p.MapTargets) == 0 {
			return "run the restore again with " + ways[0]
		}
	}
	if len(p.Missing) > 0 && len(p.Creatable) == len(p.Missing) {
		ways = append(ways, "--create-roles creates them from the roles saved with the backup (no passwords, NOLOGIN; --create-roles=login keeps LOGIN)")
	}
	if len(p.Missing) > 0 || len(p.CannotOwn) > 0 || len(p.MapTargets) > 0 {
		ways = append(ways, "--role-map OLD=NEW (repeatable) gives a role's objects and grants to one that exists")
	}
	ways = append(ways, "--no-owner --no-privileges restores without owners and grants")
	return "run the restore again with " + strings.Join(ways, "; or ")
}
