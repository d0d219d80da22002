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
# The format's known-answer vector decrypts with the shipped key file alone
# (git does not keep file modes: the key file must be made private first).
vec=backend/format/testdata/format-v1
install -m 600 "$vec/key" "$tmp/key"
run decrypt --in "$vec/backup.pgsafe" --out "$tmp/plain" --key-file "$tmp/key" 2>/dev/null || fail "decrypt of the test vector exited $?"
cmp -s "$tmp/plain" "$vec/plain" || fail "decrypt of the test vector differs from $vec/plain"
# Without any key on a headless machine: a one-line reason, no output file.
if err=$(run decrypt --in "$vec/backup.pgsafe" --out "$tmp/nokey" 2>&1 >/dev/null); then fail "decrypt without a key exited 0"; fi
[[ "$err" == "pgsafe: "*keychain* && ! -e "$tmp/nokey" ]] || fail "decrypt without a key: $err"
echo "smoke-cli: 5 passed, 0 failed"
