// Package ui holds the thin services bound to the Wails frontend. They hold no
// logic of their own: each method translates one UI call into a call on the
// engine and returns plain data the frontend can render. From the packages
// below the engine they use types only (TestServicesUseOnlyTheEngine).
package ui

import (
	"context"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
	"github.com/pgsafe/pgsafe/backend/engine"
	"github.com/pgsafe/pgsafe/backend/pgtools"
)

// SystemService answers "what is this app and what does this machine have".
type SystemService struct {
	// ExtraToolDirs are user-set directories searched for pg_dump first.
	ExtraToolDirs []string
	core          *Core
}

// NewSystemService returns the service bound to the frontend as SystemService.
func NewSystemService(c *Core) *SystemService { return &SystemService{core: c} }

// KeyStatus says whether the master key is open, where it lives, or why not.
func (s *SystemService) KeyStatus() KeyStatus { return s.core.keyStatus() }

// AcceptSettings opens settings changed outside PgSafe, accepting them as
// they now are (the user restored or edited them); audited.
func (s *SystemService) AcceptSettings() KeyStatus {
	s.core.AcceptSettings()
	return s.core.keyStatus()
}

// Retry opens the key and settings again (after the keychain was unlocked,
// or to go on with empty settings after damaged ones were set aside).
func (s *SystemService) Retry() KeyStatus {
	s.core.Retry()
	return s.core.keyStatus()
}

// AppInfo is the first screen's header: who we are and where data lives.
type AppInfo struct {
	buildinfo.Info
	SettingsDir string `json:"settingsDir"`
}

// AppInfo returns the build information and the settings directory.
func (s *SystemService) AppInfo() AppInfo {
	dir, err := engine.SettingsDir()
	if err != nil {
		dir = ""
	}
	return AppInfo{Info: engine.BuildInfo(), SettingsDir: dir}
}

// ClientTools is the result of looking for PostgreSQL client programs.
type ClientTools struct {
	Installs []pgtools.Install `json:"installs"`
	// Newest is the newest pg_dump major version found (0 when none).
	Newest int `json:"newest"`
	// Advice tells the user what to do when nothing usable was found.
	Advice string `json:"advice,omitempty"`
}

// ClientTools looks for pg_dump/pg_restore installs on this machine.
func (s *SystemService) ClientTools() ClientTools {
	return ClientTools(engine.FindClientTools(context.Background(), s.ExtraToolDirs...))
}
