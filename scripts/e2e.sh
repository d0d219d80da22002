#!/usr/bin/env bash
# Browser end-to-end tests: the dev binary serves the built frontend with
# working Go bindings; headless Chromium drives it (frontend/e2e/*.test.mjs).
# Needs: build/bin/pgsafe-dev and frontend/dist (make test-e2e builds both),
# frontend/node_modules (playwright-core), /usr/bin/chromium, xvfb-run, dbus-run-session.
#   E2E_SHOT=path   where to save the screenshot (default build/e2e-shot.png)
#   E2E_ONLY=name   run only frontend/e2e/<name>.test.mjs (while working on one)
set -euo pipefail
cd "$(dirname "$0")/.."

export PGSAFE_DEV_BIN=${PGSAFE_DEV_BIN:-$PWD/build/bin/pgsafe-dev}
export E2E_SHOT=${E2E_SHOT:-$PWD/build/e2e-shot.png}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

fail() { echo "e2e: $*" >&2; exit 1; }
[[ -x $PGSAFE_DEV_BIN ]] || fail "$PGSAFE_DEV_BIN is missing: make build/bin/pgsafe-dev"
[[ -f frontend/dist/index.html ]] || fail "frontend/dist is missing: make frontend"
[[ -d frontend/node_modules/playwright-core ]] || fail "playwright-core is missing: cd frontend && npm ci"
[[ -x $CHROMIUM ]] || fail "$CHROMIUM is missing: apt-get install chromium"
for t in xvfb-run dbus-run-session; do command -v "$t" >/dev/null || fail "$t is missing (scripts/setup-deps.sh installs it)"; done

# Each test file owns its own app process, profile and PGSAFE_HOME.
shopt -s nullglob
tests=(frontend/e2e/*.test.mjs)
[[ -n ${E2E_ONLY:-} ]] && tests=(frontend/e2e/"$E2E_ONLY".test.mjs)
(( ${#tests[@]} )) || fail "no tests in frontend/e2e"
# NO_AT_BRIDGE: the GTK window of the dev binary needs no accessibility bus here.
export NO_AT_BRIDGE=1
# stderr minus dbus-daemon's start-up chatter; the exit status is the test runner's.
# With E2E_KEEP_BUS=1 (the Go harness, backend/internal/e2e) the tests use the
# session bus of the harness's keychain instead of a new, empty one.
bus=(dbus-run-session --)
[[ ${E2E_KEEP_BUS:-} == 1 && -n ${DBUS_SESSION_BUS_ADDRESS:-} ]] && bus=()
set +e
{
  timeout --kill-after=10 900 \
    xvfb-run -a -s "-screen 0 1280x900x24" \
    "${bus[@]}" \
    node --test --test-reporter=spec --test-concurrency=1 "${tests[@]}" 2>&1 1>&3 3>&- |
    grep -v '^dbus-daemon\[' >&2
  rc=${PIPESTATUS[0]}
} 3>&1
set -e
(( rc == 0 )) || echo "e2e: FAILED (exit $rc); screenshot in $E2E_SHOT if the page opened" >&2
exit "$rc"
