#!/usr/bin/env bash
# Prints PgSafe's version, the one every build and package is stamped with (semver):
#   - at a release tag vX.Y.Z:        X.Y.Z
#   - after one:                      X.Y.(Z+1)-dev.N+gHASH   (N commits after the tag: a dev
#                                     build sorts after the release it follows, before the next)
#   - with no tag in the history yet: BASE-dev.N+gHASH   (BASE: wails.json's productVersion,
#                                                         N: the commit count)
#   - uncommitted changes add ".dirty" to the build metadata.
# Deterministic for a given commit and tree: two builds of one commit carry the same version.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "0.0.0-dev"
  exit 0
fi
hash=$(git rev-parse --short=12 HEAD)
dirty=""
# Changes to docs/ build nothing (the browser tests rewrite docs/screenshots as they run).
if ! git diff --quiet HEAD -- . ':(exclude)docs' 2>/dev/null; then dirty=".dirty"; fi

if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
  base=${tag#v}
  n=$(git rev-list --count "$tag..HEAD")
  if ((n == 0)) && [[ -z $dirty ]]; then
    echo "$base"
    exit 0
  fi
  # The next patch: semver sorts X.Y.Z-dev before X.Y.Z, and this build is newer than the tag.
  base=${base%%[-+]*}
  base="${base%.*}.$((${base##*.} + 1))"
else
  base=$(sed -n 's/.*"productVersion": *"\([^"]*\)".*/\1/p' wails.json)
  n=$(git rev-list --count HEAD)
fi
echo "${base}-dev.${n}+g${hash}${dirty}"
