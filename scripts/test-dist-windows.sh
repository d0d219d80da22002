#!/usr/bin/env bash
# Checks the Windows artifacts of make dist under Wine (docs/PACKAGING.md, "Windows"): Debian's
# wine64 (Wine 8) in a throwaway Wine prefix (scripts/wine-prefix.sh).
#   - the portable zip's pgsafe.exe and pgsafe-headless.exe: `version` prints the version;
#     `key init` puts a master key in Wine's Credential Manager (go-keyring) and a new process
#     reads its ID back; `storage add local` with a C:\ path, listed back by a new process (the
#     settings store); `decrypt` of the format's test vectors (backend/format/testdata/format-v1)
#     gives the expected plaintext;
#   - the installer, silent (/S): the files under %LOCALAPPDATA%\Programs\PgSafe, the Start-menu
#     shortcut, the uninstall entry in HKCU, the installed pgsafe.exe runs; the uninstaller (/S)
#     removes the program, the shortcut, the entry and PgSafe's login item and keeps the settings;
#     with /DELETESETTINGS it deletes them.
#   DIST=dir   where make dist put the artifacts (default dist/); VERSION, when set, must be theirs.
# What cannot run under Wine (the WebView2 window) is listed in docs/PACKAGING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wine-prefix.sh

fail() { echo "test-dist-windows: FAIL: $*" >&2; exit 1; }
say() { echo "test-dist-windows: $*" >&2; }
command -v unzip >/dev/null || fail "unzip is missing: apt-get install unzip (or make system-deps)"
start=$SECONDS

dist=${DIST:-dist}
shopt -s nullglob
zips=("$dist"/pgsafe_*_windows_amd64.zip)
((${#zips[@]} == 1)) || fail "expected one pgsafe_*_windows_amd64.zip in $dist, found ${#zips[@]}: run make dist"
zip=${zips[0]}
version=$(basename "$zip" _windows_amd64.zip)
version=${version#pgsafe_}
[[ -z ${VERSION:-} || $VERSION == "$version" ]] || fail "$zip is version $version, not $VERSION"
setup=$dist/pgsafe_${version}_windows_amd64_setup.exe
[[ -f $setup ]] || fail "$setup is missing"

work=$(mktemp -d)
trap 'wine_prefix_end; rm -rf "$work"' EXIT
wine_prefix_init "$work" test-dist-windows
say "$(wine64 --version), prefix $WINEPREFIX"
drive_c=$WINEPREFIX/drive_c
user_dir=$drive_c/users/$(id -un)
appdata=$user_dir/AppData/Roaming
settings=$appdata/PgSafe

# win PROGRAM ARGS…: runs a Windows program; its stdout without Wine's carriage returns.
win() { wine64 "$@" | tr -d '\r'; }
# expect WHAT OUTPUT NEEDLE: OUTPUT must hold NEEDLE.
expect() { [[ $2 == *"$3"* ]] || fail "$1: expected \"$3\" in:"$'\n'"$2"; }

# ---- the portable zip ---------------------------------------------------------------------
say "the portable zip: $(basename "$zip")"
unzip -q "$zip" -d "$drive_c/portable"
portable='C:\portable\pgsafe_'"$version"'_windows_amd64'
for exe in pgsafe.exe pgsafe-headless.exe; do
  [[ -f $drive_c/portable/pgsafe_${version}_windows_amd64/$exe ]] || fail "$exe is not in $zip"
done
app="$portable\\pgsafe.exe"
headless="$portable\\pgsafe-headless.exe"

# The resources dist-windows.sh put in (build/windows/tools): version information and icon.
go test -C build/windows/tools -count=1 . >&2 || fail "build/windows/tools' tests"
for exe in pgsafe.exe pgsafe-headless.exe; do
  res=$(go run -C build/windows/tools . show "$drive_c/portable/pgsafe_${version}_windows_amd64/$exe") ||
    fail "$exe: no version information or icon"
  expect "$exe's version information" "$res" "ProductVersion=$version"
  expect "$exe's version information" "$res" "OriginalFilename=$exe"
  expect "$exe's icon" "$res" "Icon=6 images"
done
say "resources: both carry version $version and the icon"

expect "pgsafe.exe version" "$(win "$app" version)" "$version"
expect "pgsafe-headless.exe version" "$(win "$headless" version)" "$version"
say "version: both print $version"

# The master key in Wine's Credential Manager (go-keyring's wincred), then read by a new process.
out=$(win "$app" key init 2>&1) || fail "key init: $out"
id=$(win "$headless" key id --json) || fail "key id after key init"
key_id=$(sed -n 's/.*"key_id": *"\([0-9a-f]*\)".*/\1/p' <<<"$id")
[[ -n $key_id ]] || fail "key id printed no key ID: $id"
expect "key init's output" "$out" "$key_id"
say "key init: key $key_id in Wine's Credential Manager, read back by a new process"

# A local storage with a C:\ path, stored in the settings and listed by a new process.
mkdir -p "$drive_c/PgSafe Backups"
out=$(win "$app" storage add local --name usb --path 'C:\PgSafe Backups' 2>&1) || fail "storage add local: $out"
list=$(win "$headless" storage list) || fail "storage list"
expect "storage list" "$list" "usb"
expect "storage list" "$list" 'C:\PgSafe Backups'
[[ -f $settings/pgsafe.db ]] || fail "no settings database pgsafe.db in $settings: $(ls "$settings")"
say "storage add local: 'usb' at C:\\PgSafe Backups, listed back by a new process"

# The format's test vectors: both decrypt to the expected plaintext.
vectors=backend/format/testdata/format-v1
mkdir -p "$drive_c/vectors"
cp "$vectors/key" "$vectors/backup.pgsafe" "$vectors/backup-nocompress.pgsafe" "$drive_c/vectors/"
for v in backup backup-nocompress; do
  out=$(win "$headless" decrypt --in "C:\\vectors\\$v.pgsafe" --out "C:\\vectors\\$v.out" --key-file 'C:\vectors\key' 2>&1) ||
    fail "decrypt $v.pgsafe: $out"
  cmp "$drive_c/vectors/$v.out" "$vectors/plain" || fail "decrypt $v.pgsafe: not the expected plaintext"
done
say "decrypt: both format-v1 test vectors give the expected plaintext"

# ---- the installer ------------------------------------------------------------------------
say "the installer: $(basename "$setup") /S"
# The WebView2 runtime counts as installed (Wine has none, and the bootstrapper would download
# it), so the installer skips its bootstrapper.
webview2='HKCU\Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}'
wine64 reg add "$webview2" /v pv /d 120.0.0.0 /f >/dev/null
installed=$user_dir/AppData/Local/Programs/PgSafe
shortcut="$appdata/Microsoft/Windows/Start Menu/Programs/PgSafe.lnk"
uninst_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\PgSafe'
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'

install() {
  cp "$setup" "$drive_c/setup.exe"
  wine64 'C:\setup.exe' /S || fail "the installer exited $?"
  for f in pgsafe.exe pgsafe-headless.exe uninstall.exe; do
    [[ -f $installed/$f ]] || fail "the installer put no $f in $installed: $(ls "$installed" 2>&1)"
  done
  [[ -f $shortcut ]] || fail "no Start-menu shortcut $shortcut"
  reg=$(win reg query "$uninst_key") || fail "no uninstall entry $uninst_key"
  expect "the uninstall entry" "$reg" "$version"
  expect "the uninstall entry" "$reg" 'AppData\Local\Programs\PgSafe\uninstall.exe'
}
install
cmp "$installed/pgsafe.exe" "$drive_c/portable/pgsafe_${version}_windows_amd64/pgsafe.exe" ||
  fail "the installed pgsafe.exe is not the zip's"
expect "the installed pgsafe.exe version" "$(win 'C:\users\'"$(id -un)"'\AppData\Local\Programs\PgSafe\pgsafe.exe' version)" "$version"
say "installed: pgsafe.exe, pgsafe-headless.exe, uninstall.exe, the Start-menu shortcut, the uninstall entry; the installed pgsafe.exe runs"

# uninstall ARGS…: runs the uninstaller, which copies itself away and returns at once: wait for
# every process of the prefix to end (wineserver -w).
uninstall() {
  wine64 'C:\users\'"$(id -un)"'\AppData\Local\Programs\PgSafe\uninstall.exe' /S "$@" || fail "the uninstaller exited $?"
  wineserver -w
  [[ ! -e $installed ]] || fail "the uninstaller left $installed: $(ls "$installed")"
  [[ ! -e $shortcut ]] || fail "the uninstaller left the Start-menu shortcut"
  if wine64 reg query "$uninst_key" >/dev/null 2>&1; then fail "the uninstaller left $uninst_key"; fi
}
# PgSafe's login item, as Settings > Desktop writes it (backend/tray/autostart).
wine64 reg add "$run_key" /v PgSafe /d "\"$app\" agent --login" /f >/dev/null
uninstall
if wine64 reg query "$run_key" /v PgSafe >/dev/null 2>&1; then fail "the uninstaller left the Run value PgSafe"; fi
[[ -d $settings ]] || fail "the uninstaller deleted the settings in $settings"
list=$(win "$headless" storage list) || fail "storage list after uninstalling"
expect "storage list after uninstalling" "$list" "usb"
say "uninstalled (/S): the program, shortcut, uninstall entry and login item are gone; the settings stay"

install
uninstall /DELETESETTINGS
[[ ! -e $settings ]] || fail "uninstall /DELETESETTINGS left $settings"
say "uninstalled (/S /DELETESETTINGS): the settings are gone too"

say "all checks passed in $((SECONDS - start)) s"
