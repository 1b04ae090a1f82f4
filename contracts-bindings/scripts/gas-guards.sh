#!/usr/bin/env bash
# What issue 15's oracle guards cost: runs the scenarios in scripts/gas-guards/ with
# `forge test --isolate --gas-report` (every call its own transaction: cold storage, as on chain)
# on the contracts before the guards (git 8e502ca^, the parent of the commit that landed issue 15;
# the squashed history lost 7681fd3, same contracts; override with BEFORE=<rev>) and on the
# working tree's, and prints the per-call gas (min = round 2, max = round 1 for submit). Leaves
# the repository untouched (works in a temporary directory). GAS.md quotes its output.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"            # contracts-bindings/
REPO="$(cd "$ROOT/.." && pwd)"
BEFORE="${BEFORE:-8e502ca^}"
bash "$HERE/install-tools.sh" >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for v in before now; do
    mkdir -p "$tmp/$v/contracts-bindings/solidity"
    ln -s "$ROOT/.tools" "$tmp/$v/contracts-bindings/.tools"
    ln -s "$ROOT/artifacts" "$tmp/$v/contracts-bindings/artifacts"
done
git -C "$REPO" archive "$BEFORE" contracts-bindings/solidity/src contracts-bindings/solidity/foundry.toml \
    contracts-bindings/solidity/test/utils | tar -x -C "$tmp/before"
cp -r "$ROOT/solidity/src" "$ROOT/solidity/foundry.toml" "$tmp/now/contracts-bindings/solidity/"
mkdir -p "$tmp/now/contracts-bindings/solidity/test"
cp -r "$ROOT/solidity/test/utils" "$tmp/now/contracts-bindings/solidity/test/"
rm -f "$tmp"/*/contracts-bindings/solidity/test/utils/*.t.sol
cp "$HERE/gas-guards/GasGuards.t.sol" "$tmp/before/contracts-bindings/solidity/test/"
cp "$HERE/gas-guards/"*.t.sol "$tmp/now/contracts-bindings/solidity/test/"
for v in before now; do
    echo "== $v ($([[ $v == before ]] && echo "$BEFORE" || echo "working tree"))"
    for c in GasGuardsTest GasGuardsNewTest; do
        [[ -f "$tmp/$v/contracts-bindings/solidity/test/${c%Test}.t.sol" ]] || continue
        echo "-- $c"
        (cd "$tmp/$v/contracts-bindings/solidity" \
            && FOUNDRY_PROFILE=default "$ROOT/.tools/bin/forge" test --isolate --gas-report \
                --match-contract "^$c\$" 2>&1) \
            | grep -E '^\| (submit|approveReport|price|latestRoundData|isFresh) ' \
            | awk -F'|' '{gsub(/ +/, " "); print $2 "| min" $3 "| max" $6 "| calls" $7}'
    done
done
