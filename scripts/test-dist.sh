#!/usr/bin/env bash
# make test-dist: checks what make dist built, on this machine (docs/PACKAGING.md):
#   - the Linux packages (scripts/test-dist-linux.sh): the .deb installed with apt, run, purged;
#   - the Windows ones under Wine (scripts/test-dist-windows.sh);
#   - reproducibility: a second make dist from the same commit gives the same SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-dist: $*" >&2; exit 1; }
[[ -s dist/SHA256SUMS ]] || fail "dist/SHA256SUMS is missing: run make dist first"

bash scripts/test-dist-linux.sh
bash scripts/test-dist-windows.sh

echo "test-dist: building again to check the artifacts are reproducible" >&2
again=build/dist-again
DIST=$again bash scripts/dist.sh >/dev/null
if ! diff -u dist/SHA256SUMS "$again/SHA256SUMS"; then
  fail "two builds of one commit differ (above): make dist is not reproducible"
fi
rm -rf "$again"
echo "test-dist: all checks passed" >&2
