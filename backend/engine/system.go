package engine

import (
	"context"
	"os"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/keys"
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

// EnsureSettingsDir is SettingsDir, created (0700) when missing.
func EnsureSettingsDir() (string, error) { return paths.EnsureHome() }

// KeyFileChosen says whether a key of the user's own is chosen for this
// process instead of this machine's: keyFile (a face's option, like
// Options.KeyFile) or PGSAFE_KEY_FILE. The agent holds this machine's key,
// so a job with another key runs in the face's own process.
func KeyFileChosen(keyFile string) bool { return keyFile != "" || os.Getenv(keys.EnvKeyFile) != "" }

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
