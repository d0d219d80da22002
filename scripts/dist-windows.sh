#!/usr/bin/env bash
# The Windows artifacts of make dist (docs/PACKAGING.md, "Windows"), cross-built on Linux; run by
# scripts/dist.sh, which exports VERSION, COMMIT, SOURCE_DATE_EPOCH, DIST, PGSAFE_LDFLAGS and
# GOFLAGS=-trimpath:
#   DIST/pgsafe_VERSION_windows_amd64_setup.exe   the installer (NSIS; build/windows/installer)
#   DIST/pgsafe_VERSION_windows_amd64.zip         the two programs, portable
# pgsafe.exe is the window (Wails, GUI subsystem; its commands print into the console they are
# run from: backend/console), pgsafe-headless.exe the command line and background agent (console
# subsystem). Both carry the icon, version information and manifest (build/windows/tools).
# Intermediate files go to build/dist/windows. Byte-reproducible for a commit: -trimpath, no
# time stamps in the resources, the installer's files dated SOURCE_DATE_EPOCH, a sorted zip.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "dist-windows: $*" >&2; exit 1; }
for v in VERSION SOURCE_DATE_EPOCH DIST PGSAFE_LDFLAGS; do
  [[ -n ${!v:-} ]] || fail "$v is not set: run scripts/dist.sh (make dist), which sets it"
done
[[ -f frontend/dist/index.html ]] || fail "the frontend is not built: make frontend (make dist does it)"
command -v go >/dev/null || fail "go is missing"
command -v makensis >/dev/null || fail "makensis is missing: apt-get install nsis"

umask 022
export TZ=UTC LC_ALL=C
root=$(pwd)
work=$root/build/dist/windows
rm -rf "$work"
mkdir -p "$work/bin"
start=$SECONDS
name=pgsafe_${VERSION}_windows_amd64
tools=(go run -C build/windows/tools .)

# The resources go in as a .syso object beside main.go while one program is built (the Go linker
# takes .syso files from the package's folder only); the _windows_amd64 suffix keeps every other
# build from seeing it, and it is removed at the end.
syso=$root/pgsafe_dist_windows_amd64.syso
trap 'rm -f "$syso"' EXIT
build() { # build OUT.exe DESCRIPTION TAGS LDFLAGS
  local exe=$1 desc=$2 tags=$3 ldflags=$4
  "${tools[@]}" syso -version "$VERSION" -name "$exe" -description "$desc" -out "$syso"
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -tags "$tags" -ldflags "$ldflags" -o "$work/bin/$exe" .
  rm -f "$syso"
}
echo "dist-windows: pgsafe.exe (Wails, WebView2, GUI subsystem)" >&2
build pgsafe.exe "PgSafe" desktop,production "-w -s -H windowsgui $PGSAFE_LDFLAGS"
echo "dist-windows: pgsafe-headless.exe (command line and agent, console subsystem)" >&2
build pgsafe-headless.exe "PgSafe command line and background agent" headless "-w -s $PGSAFE_LDFLAGS"

echo "dist-windows: the installer (makensis $(makensis -VERSION))" >&2
"${tools[@]}" ico -out "$work/icon.ico"
# Microsoft's WebView2 bootstrapper, as Wails ships it (its installer template runs it).
wails_dir=$(go list -m -f '{{.Dir}}' github.com/wailsapp/wails/v2)
cp "$wails_dir/internal/webview2runtime/MicrosoftEdgeWebview2Setup.exe" "$work/"
chmod 644 "$work/MicrosoftEdgeWebview2Setup.exe"
# The installer stores its files' times (NSIS SetDateSave): the commit's, not the build's.
touch -d "@$SOURCE_DATE_EPOCH" "$work"/bin/*.exe "$work/icon.ico" "$work/MicrosoftEdgeWebview2Setup.exe"
file_version=$(printf '%d.%d.%d.%d' $("${tools[@]}" fileversion -version "$VERSION"))
makensis -V2 -INPUTCHARSET UTF8 \
  -DVERSION="$VERSION" -DFILEVERSION="$file_version" \
  -DAPP_EXE="$work/bin/pgsafe.exe" -DHEADLESS_EXE="$work/bin/pgsafe-headless.exe" \
  -DICON="$work/icon.ico" -DWEBVIEW2_SETUP="$work/MicrosoftEdgeWebview2Setup.exe" \
  -DOUTFILE="$DIST/${name}_setup.exe" \
  build/windows/installer/project.nsi >&2

echo "dist-windows: the portable zip" >&2
"${tools[@]}" zip -out "$DIST/$name.zip" -time "$SOURCE_DATE_EPOCH" -dir-name "$name" \
  "$work/bin/pgsafe.exe" "$work/bin/pgsafe-headless.exe"
touch -d "@$SOURCE_DATE_EPOCH" "$DIST/${name}_setup.exe" "$DIST/$name.zip"
echo "dist-windows: done in $((SECONDS - start)) s" >&2
