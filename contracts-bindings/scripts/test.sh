#!/usr/bin/env bash
# Builds and tests gaib's Solidity contracts (contracts-bindings/solidity) with the npm-installed
# toolchain. Exits non-zero on any failure. Used by the project's top-level test script.
#   FOUNDRY_PROFILE   forge profile (default: ci; fuzz >= 1000 runs, sized invariants)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
bash "$HERE/install-tools.sh" >/dev/null
FORGE="$ROOT/.tools/bin/forge"
export FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-ci}"
cd "$ROOT/solidity"
echo "== forge build (profile $FOUNDRY_PROFILE)"
"$FORGE" build
echo "== forge test (profile $FOUNDRY_PROFILE)"
"$FORGE" test
if [[ "${GAIB_EXPORT_ARTIFACTS:-1}" == 1 ]]; then
    echo "== export artifacts"
    bash "$HERE/export-artifacts.sh"
fi
