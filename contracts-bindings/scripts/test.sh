#!/usr/bin/env bash
# Builds and tests gaib's Solidity contracts (contracts-bindings/solidity) with the npm-installed
# toolchain: forge build, forge test (unit, fuzz, invariant), an end-to-end smoke test on a local
# anvil chain (anvil-smoke.sh), and refreshes the checked-in ABI/bytecode artifacts
# (export-artifacts.sh). Exits non-zero on any failure. Used by the project's top-level test
# script:  bash contracts-bindings/scripts/test.sh
#   FOUNDRY_PROFILE       forge profile (default: ci; 5000 fuzz runs, 256 x 100 invariant runs)
#   GAIB_SKIP_ANVIL=1     skip the anvil smoke test
#   GAIB_EXPORT_ARTIFACTS=0  do not refresh contracts-bindings/artifacts/
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
if [[ "${GAIB_SKIP_ANVIL:-0}" != 1 ]]; then
    echo "== anvil smoke test"
    bash "$HERE/anvil-smoke.sh"
fi
if [[ "${GAIB_EXPORT_ARTIFACTS:-1}" == 1 ]]; then
    echo "== export artifacts"
    bash "$HERE/export-artifacts.sh"
fi
