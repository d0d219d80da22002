#!/usr/bin/env bash
# Runs Go packages' tests as Windows programs under Wine (Debian's wine64 8.0), in a throwaway
# Wine prefix: real Windows APIs as Wine implements them (the registry, command-line parsing).
#   scripts/test-windows.sh [package…]   (default: ./backend/tray/autostart)
# Needs: wine64 gcc-mingw-w64-x86-64 (apt-get install; make test-windows installs them).
# Go >= 1.22 calls ProcessPrng from bcryptprimitives.dll at start-up, which Wine 8 lacks: a tiny
# DLL built here provides it (advapi32's RtlGenRandom), as shared/RECIPES.md describes.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's wine64 package installs its programs in /usr/lib/wine (the wine package adds wrappers).
PATH="$PATH:/usr/lib/wine"
for tool in wine64 wineserver x86_64-w64-mingw32-gcc; do
  if ! command -v "$tool" >/dev/null; then
    echo "test-windows: $tool is missing: apt-get install wine64 gcc-mingw-w64-x86-64" >&2
    exit 1
  fi
done
packages=("$@")
if ((${#packages[@]} == 0)); then packages=(./backend/tray/autostart); fi

work=$(mktemp -d)
trap 'WINEPREFIX="$work/prefix" wineserver -k >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

cat >"$work/prng.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!RtlGenRandom(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
C
printf 'LIBRARY bcryptprimitives\nEXPORTS\n  ProcessPrng\n' >"$work/prng.def"
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" "$work/prng.c" "$work/prng.def" -ladvapi32
wine64 wineboot --init >/dev/null 2>&1
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

status=0
for pkg in "${packages[@]}"; do
  exe="$work/$(basename "$pkg").test.exe"
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$exe" "$pkg"
  echo "test-windows: $pkg under $(wine64 --version)"
  if ! wine64 "$exe" -test.v -test.count=1; then status=1; fi
done
exit $status
