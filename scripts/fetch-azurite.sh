#!/usr/bin/env bash
# Installs Azurite (Microsoft's Azure Storage emulator, npm package azurite)
# for the Azure Blob storage tests, into <tools>/azurite, where the Go harness
# backend/internal/testenv looks (<tools>/azurite/node_modules/.bin/azurite-blob).
#
# <tools> is $PGSAFE_TOOLS_DIR, else .tools at the repository root.
# Idempotent: a pinned version already installed is left alone. Needs node,
# npm and the npm registry.
set -euo pipefail

VERSION=3.37.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${PGSAFE_TOOLS_DIR:-$ROOT/.tools}"
DEST="$TOOLS/azurite"
PKGJSON="$DEST/node_modules/azurite/package.json"

if [[ -f "$PKGJSON" ]] && [[ "$(node -p "require('$PKGJSON').version" 2>/dev/null)" == "$VERSION" ]] \
   && [[ -x "$DEST/node_modules/.bin/azurite-blob" ]]; then
  echo "fetch-azurite: azurite $VERSION already in $DEST" >&2
  exit 0
fi
mkdir -p "$DEST"
echo "fetch-azurite: npm install azurite@$VERSION into $DEST" >&2
# Its install scripts are not needed (npm 11 warns about them).
(cd "$DEST" && npm install --prefix . --no-audit --no-fund --ignore-scripts --no-save "azurite@$VERSION" >&2)
[[ -x "$DEST/node_modules/.bin/azurite-blob" ]] || { echo "fetch-azurite: azurite-blob missing after install" >&2; exit 1; }
