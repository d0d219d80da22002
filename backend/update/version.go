package update

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"
)

// Offered says whether latest should be offered to a build whose version
// is running: it must be newer by semver (build metadata after "+" does not
// count; a development build X.Y.Z-dev.N+gHASH is older than X.Y.Z), so an
// older or equal version, a downgrade, is never offered; and a pre-release
// (0.3.0-rc.1) is offered only to a build that is itself a pre-release or
// a development build. An error says which version is not semver.
func Offered(running, latest string) (bool, error) {
	r, l := canonical(running), canonical(latest)
	if !semver.IsValid(r) {
		return false, fmt.Errorf("this build's version %q is not a semantic version", running)
	}
	if !fullSemver(l) {
		return false, fmt.Errorf("%w: version %q is not a semantic version", ErrInvalidFeed, latest)
	}
	if semver.Prerelease(l) != "" && semver.Prerelease(r) == "" {
		return false, nil
	}
	return semver.Compare(l, r) > 0, nil
}

func canonical(v string) string { return "v" + strings.TrimPrefix(strings.TrimSpace(v), "v") }

// fullSemver: v ("v1.2.3…") is valid semver with all three numbers (x/mod
// also takes "v1.2" as shorthand, which a feed must not use).
func fullSemver(v string) bool {
	return semver.IsValid(v) && semver.Canonical(v)+semver.Build(v) == v
}
