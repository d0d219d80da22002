#!/usr/bin/env bash
# make dist: builds PgSafe's release artifacts into dist/ (docs/PACKAGING.md).
#   Linux host: the Linux packages (scripts/dist-linux.sh) and the Windows ones, cross-built
#               (scripts/dist-windows.sh).
#   macOS host: the macOS app bundle and disk image (scripts/dist-macos.sh).
#   PGSAFE_DIST_TARGETS="linux windows macos" picks targets (the release workflow sets it per runner).
# Every artifact is stamped with scripts/version.sh's version and built reproducibly: -trimpath,
# file times from SOURCE_DATE_EPOCH (the commit's time), so two runs from one commit give the same
# SHA256SUMS. Intermediate files go to build/dist/; DIST (default dist/) gets only artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."

export VERSION=${VERSION:-$(bash scripts/version.sh)}
export COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export DIST=${DIST:-dist}
export PGSAFE_LDFLAGS="-X github.com/pgsafe/pgsafe/backend/buildinfo.Version=$VERSION -X github.com/pgsafe/pgsafe/backend/buildinfo.Commit=$COMMIT${PGSAFE_UPDATE_FEED:+ -X github.com/pgsafe/pgsafe/backend/buildinfo.UpdateFeed=$PGSAFE_UPDATE_FEED}"
# Go stamps the VCS state into binaries; keep it (it is the commit, not the time of the build).
export GOFLAGS="${GOFLAGS:-} -trimpath"

if [[ -z ${PGSAFE_DIST_TARGETS:-} ]]; then
  case "$(uname -s)" in
    Linux) PGSAFE_DIST_TARGETS="linux windows" ;;
    Darwin) PGSAFE_DIST_TARGETS="macos" ;;
    *) echo "dist: build on Linux or macOS (Windows artifacts are cross-built on Linux)" >&2; exit 1 ;;
  esac
fi

rm -rf "$DIST"
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
for target in $PGSAFE_DIST_TARGETS; do
  echo "dist: $target $VERSION" >&2
  bash "scripts/dist-$target.sh"
done

# sha256sum (GNU) or shasum (macOS): the same "HASH  NAME" lines.
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
(
  cd "$DIST"
  files=()
  while IFS= read -r f; do [[ -f $f && $f != SHA256SUMS ]] && files+=("$f"); done < <(LC_ALL=C ls -1)
  sha256 "${files[@]}" >SHA256SUMS
)
echo "dist: $(wc -l <"$DIST/SHA256SUMS") artifacts in $DIST" >&2
cat "$DIST/SHA256SUMS"
