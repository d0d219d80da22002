#!/usr/bin/env bash
# Sourced by the scripts that run Windows programs under Wine (scripts/test-windows.sh,
# scripts/test-dist-windows.sh): Debian's wine64 (Wine 8.0) in a throwaway Wine prefix.
#   source scripts/wine-prefix.sh
#   wine_prefix_init DIR NAME   checks the tools (fails naming the apt-get line), makes the prefix
#                               DIR/prefix and exports WINEPREFIX, WINEDEBUG, WINEDLLOVERRIDES;
#                               NAME prefixes its messages. wine_prefix_end stops its wineserver.
# Go >= 1.22 calls ProcessPrng from bcryptprimitives.dll at start-up, which Wine 8 lacks: a tiny
# DLL built here provides it (advapi32's RtlGenRandom), as shared/RECIPES.md describes.

# Debian's wine64 package installs its programs in /usr/lib/wine (the wine package adds wrappers).
PATH="$PATH:/usr/lib/wine"

wine_prefix_init() {
  local work=$1 name=$2 tool
  for tool in wine64 wineserver x86_64-w64-mingw32-gcc; do
    if ! command -v "$tool" >/dev/null; then
      echo "$name: $tool is missing: apt-get install wine64 gcc-mingw-w64-x86-64" >&2
      return 1
    fi
  done
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
  # Debian's Wine 8 makes a Windows 7 prefix; PgSafe (Wails, WebView2) needs Windows 10.
  wine64 winecfg -v win10 >/dev/null 2>&1
  cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
}

# wine_prefix_end stops the prefix's wineserver (and the programs still running in it).
wine_prefix_end() {
  if [[ -n ${WINEPREFIX:-} ]]; then wineserver -k >/dev/null 2>&1 || true; fi
}
