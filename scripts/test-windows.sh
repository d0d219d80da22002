#!/usr/bin/env bash
# Runs Go packages' tests as Windows programs under Wine (Debian's wine64 8.0), in a throwaway
# Wine prefix: real Windows APIs as Wine implements them (the registry, command-line parsing).
#   scripts/test-windows.sh [package…]   (default: ./backend/tray/autostart ./backend/console)
# Needs: wine64 gcc-mingw-w64-x86-64 (apt-get install; make test-windows installs them), and
# script(1) (util-linux) to give the tests a console.
# The prefix, with the shim DLL Go needs under Wine 8: scripts/wine-prefix.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wine-prefix.sh

packages=("$@")
if ((${#packages[@]} == 0)); then packages=(./backend/tray/autostart ./backend/console); fi

work=$(mktemp -d)
trap 'wine_prefix_end; rm -rf "$work"' EXIT
wine_prefix_init "$work" test-windows

status=0
for pkg in "${packages[@]}"; do
  exe="$work/$(basename "$pkg").test.exe"
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$exe" "$pkg"
  echo "test-windows: $pkg under $(wine64 --version)"
  # In a terminal (script(1)), so that the tests have a console (backend/console attaches to it);
  # without its carriage returns and cursor codes.
  if ! script -qec "wine64 $(printf %q "$exe") -test.v -test.count=1" /dev/null </dev/null |
    sed -e 's/\r//g' -e 's/\x1b\[?25[lh]//g' -e 's/\x1b\[K//g'; then status=1; fi
done
exit $status
