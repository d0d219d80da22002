#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short time each (default 10s).
# Targets are found by name (func FuzzXxx) so new ones are picked up.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
found=0
while IFS=: read -r file _ line; do
  pkg="./$(dirname "$file")"
  name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
  echo "fuzz: $pkg $name ($fuzztime)"
  go test -tags webkit2_41 -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
  found=$((found + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' backend || true)
echo "fuzz: $found targets ran"
