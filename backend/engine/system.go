package engine

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/paths"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// What this PgSafe is and what this machine has, for a face's about and
// tools screens; none of it needs the key or the settings open.

// BuildInfo is this build's name, version and commit.
func BuildInfo() buildinfo.Info { return buildinfo.Get() }

// SettingsDir is the settings directory PgSafe uses (PGSAFE_HOME, else
// the user's configuration folder).
func SettingsDir() (string, error) { return paths.Home() }

// ToolsFound is what a search for PostgreSQL client programs found.
type ToolsFound struct {
	Installs []pgtools.Install // newest first; never nil
	// Newest is the newest pg_dump major version found (0 when none).
	Newest int
	// Advice tells the user what to do when nothing usable was found.
	Advice string
}

// FindClientTools looks for pg_dump/pg_restore installs on this machine,
// in extraDirs first.
func FindClientTools(ctx context.Context, extraDirs ...string) ToolsFound {
	return summarizeTools(pgtools.Discover(ctx, extraDirs...))
}

func summarizeTools(ins []pgtools.Install) ToolsFound {
	ct := ToolsFound{Installs: ins}
	if ct.Installs == nil {
		ct.Installs = []pgtools.Install{}
	}
	if len(ins) > 0 {
		ct.Newest = ins[0].Version.Major
	} else {
		ct.Advice = pgtools.InstallAdvice()
	}
	return ct
}
