// Package buildinfo holds the version and commit stamped into the binary at
// build time (see the Makefile's -ldflags), and the Go version it was built with.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/pgsafe/pgsafe/backend/buildinfo.Version=…".
var (
	Version = "0.0.0-dev"
	Commit  = ""
	// UpdateFeed is the https URL of the release feed this build checks
	// for a newer PgSafe (PGSAFE_UPDATE_FEED at `make dist`; package update).
	// Empty: this build never checks.
	UpdateFeed = ""
)

// Info describes this build.
type Info struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information, falling back to the VCS revision Go
// records when no commit was stamped.
func Get() Info {
	commit := Commit
	if commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					commit = s.Value[:12]
				}
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return Info{
		Name:      "PgSafe",
		Version:   Version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}
