#!/usr/bin/env bash
# Runs the production binary's command line with no display and no session bus,
# as on a server: it must answer without opening a window.
set -euo pipefail
bin=${1:-build/bin/pgsafe}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() { timeout 20 env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS PGSAFE_HOME="$tmp" "$bin" "$@"; }
fail() { echo "smoke-cli: FAIL: $*" >&2; exit 1; }

out=$(run version) || fail "pgsafe version exited $?"
[[ "$out" == PgSafe\ * ]] || fail "pgsafe version printed: $out"
json=$(run version --json) || fail "pgsafe version --json exited $?"
node -e 'const v=JSON.parse(process.argv[1]); if(v.name!=="PgSafe"||!v.version||!v.goVersion) process.exit(1)' "$json" \
  || fail "pgsafe version --json printed: $json"
if err=$(run no-such-command 2>&1 >/dev/null); then fail "unknown command exited 0"; fi
[[ "$err" == "pgsafe: "* ]] || fail "unknown command stderr: $err"
echo "smoke-cli: 3 passed, 0 failed"
