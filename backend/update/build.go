//go:build !dev

package update

import (
	"runtime"

	"github.com/pgsafe/pgsafe/backend/buildinfo"
)

// FromBuild are the options this build checks with: the feed stamped at
// build time (buildinfo.UpdateFeed; empty: no checks), its version and OS.
func FromBuild() Options {
	return Options{Feed: buildinfo.UpdateFeed, Version: buildinfo.Version, OS: runtime.GOOS}
}
