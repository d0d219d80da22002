#!/usr/bin/env bash
# The Linux artifacts of make dist (docs/PACKAGING.md, "Linux"), run by scripts/dist.sh, which
# exports VERSION, COMMIT, SOURCE_DATE_EPOCH, DIST, PGSAFE_LDFLAGS and GOFLAGS=-trimpath:
#   DIST/pgsafe_<deb version>_amd64.deb       the app and the headless build, menu entry, icons,
#   DIST/pgsafe-<rpm version>.x86_64.rpm      AppStream metainfo, man pages (build/linux/nfpm.yaml)
#   DIST/pgsafe-headless_VERSION_linux_amd64.tar.gz   the headless build alone, for servers
# Intermediate files go to build/dist/linux. Every output is byte-reproducible for a commit:
# -trimpath builds, file times and dates from SOURCE_DATE_EPOCH, sorted archives, gzip -n.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "dist-linux: $*" >&2; exit 1; }
for v in VERSION SOURCE_DATE_EPOCH DIST PGSAFE_LDFLAGS; do
  [[ -n ${!v:-} ]] || fail "$v is not set: run scripts/dist.sh (make dist), which sets it"
done
[[ -f frontend/dist/index.html ]] || fail "the frontend is not built: make frontend (make dist does it)"
for t in go gzip tar; do command -v "$t" >/dev/null || fail "$t is missing"; done

# Files the packages take keep these modes whatever the caller's umask.
umask 022
export TZ=UTC LC_ALL=C
work=build/dist/linux
stage=$work/stage
rm -rf "$work"
mkdir -p "$stage/man1" "$stage/hicolor/scalable/apps"
start=$SECONDS

echo "dist-linux: the app (cgo, GTK, WebKitGTK 4.1)" >&2
go build -tags desktop,production,webkit2_41 -ldflags "-w -s $PGSAFE_LDFLAGS" -o "$stage/pgsafe" .
echo "dist-linux: the headless build (no cgo)" >&2
CGO_ENABLED=0 go build -tags headless -ldflags "-w -s $PGSAFE_LDFLAGS" -o "$stage/pgsafe-headless" .

echo "dist-linux: man pages, icons, metainfo" >&2
CGO_ENABLED=0 go run -tags headless -ldflags "$PGSAFE_LDFLAGS" ./backend/internal/dist/linux/manpages "$work/man"
# The headless build has the same commands: its page points to pgsafe(1) (man-db follows .so).
printf '.so man1/pgsafe.1\n' >"$work/man/pgsafe-headless.1"
for page in "$work"/man/*.1; do
  gzip -n -9 -c "$page" >"$stage/man1/$(basename "$page").gz"
done
root=$(pwd)
go run -C build/linux/tools . "$root/build/appicon.png" "$root/$stage/hicolor" pgsafe
cp build/appicon.svg "$stage/hicolor/scalable/apps/pgsafe.svg"
# A release X.Y.Z is stable; X.Y.Z-dev.N+gHASH a development snapshot.
release_type=stable
[[ $VERSION == *-* ]] && release_type=development
release_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
sed -e "s|@VERSION@|$VERSION|" -e "s|@DATE@|$release_date|" -e "s|@TYPE@|$release_type|" \
  build/linux/io.github.pgsafe.PgSafe.metainfo.xml.in >"$stage/io.github.pgsafe.PgSafe.metainfo.xml"

echo "dist-linux: .deb and .rpm (nfpm)" >&2
go build -C build/linux/tools -o "$root/$work/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm
for packager in deb rpm; do
  "$work/nfpm" package --config build/linux/nfpm.yaml --packager "$packager" --target "$DIST/" >&2
done

echo "dist-linux: the headless tarball" >&2
name=pgsafe-headless_${VERSION}_linux_amd64
mkdir -p "$work/$name"
cp "$stage/pgsafe-headless" "$work/$name/"
sed "s|@VERSION@|$VERSION|" build/linux/README.headless.txt >"$work/$name/README.txt"
cp build/linux/copyright "$work/$name/COPYRIGHT"
tar -C "$work" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
  --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n -9 >"$DIST/$name.tar.gz"

echo "dist-linux: done in $((SECONDS - start)) s" >&2
