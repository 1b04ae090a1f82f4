#!/usr/bin/env bash
# What issue 15's oracle guards and issue 20's bounds cost: runs the scenarios in
# scripts/gas-guards/ with `forge test --isolate --gas-report` (every call its own transaction:
# cold storage, as on chain) on the contracts before them and on the working tree's, and prints
# the per-call gas. Issue 15 (GasGuards*): before = git 8e502ca^, the parent of the commit that
# landed it (the squashed history lost 7681fd3, same contracts; override with BEFORE=<rev>); min
# = round 2, max = round 1 for submit. Issue 20 (GasBounds): before = 54bb0bb^ (override with
# BEFORE20=<rev>). `gas-guards.sh 15` or `gas-guards.sh 20` runs one set. Leaves the repository
# untouched (works in a temporary directory). GAS.md quotes its output.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"            # contracts-bindings/
REPO="$(cd "$ROOT/.." && pwd)"
BEFORE="${BEFORE:-8e502ca^}"
BEFORE20="${BEFORE20:-54bb0bb^}"
bash "$HERE/install-tools.sh" >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# measure SET BEFORE_REV CALLS SCENARIO...: the scenarios (scripts/gas-guards/<Name>.t.sol, whose
# contract is <Name>Test) on the contracts at BEFORE_REV and on the working tree's; a scenario
# whose name ends in "New" runs on the working tree only. Prints the rows of the calls matching
# the regex CALLS.
measure() {
    local set="$1" rev="$2" calls="$3"
    shift 3
    for v in before now; do
        local dir="$tmp/$set/$v/contracts-bindings"
        mkdir -p "$dir/solidity/test"
        ln -s "$ROOT/.tools" "$dir/.tools"
        ln -s "$ROOT/artifacts" "$dir/artifacts"
    done
    git -C "$REPO" archive "$rev" contracts-bindings/solidity/src contracts-bindings/solidity/foundry.toml \
        contracts-bindings/solidity/test/utils | tar -x -C "$tmp/$set/before"
    cp -r "$ROOT/solidity/src" "$ROOT/solidity/foundry.toml" "$tmp/$set/now/contracts-bindings/solidity/"
    cp -r "$ROOT/solidity/test/utils" "$tmp/$set/now/contracts-bindings/solidity/test/"
    rm -f "$tmp/$set"/*/contracts-bindings/solidity/test/utils/*.t.sol
    for v in before now; do
        echo "== $v ($([[ $v == before ]] && echo "$rev" || echo "working tree"))"
        for name in "$@"; do
            [[ $v == before && $name == *New ]] && continue
            cp "$HERE/gas-guards/$name.t.sol" "$tmp/$set/$v/contracts-bindings/solidity/test/"
            echo "-- ${name}Test"
            (cd "$tmp/$set/$v/contracts-bindings/solidity" \
                && FOUNDRY_PROFILE=default "$ROOT/.tools/bin/forge" test --isolate --gas-report \
                    --match-contract "^${name}Test\$" 2>&1) \
                | grep -E "^\| ($calls) " \
                | awk -F'|' '{gsub(/ +/, " "); print $2 "| min" $3 "| max" $6 "| calls" $7}'
        done
    done
}

if [[ "${1:-all}" != 20 ]]; then
    echo "## issue 15: the oracle's guards"
    measure i15 "$BEFORE" 'submit|approveReport|price|latestRoundData|isFresh' GasGuards GasGuardsNew
fi
if [[ "${1:-all}" != 15 ]]; then
    echo "## issue 20: value bounds, mark-down limit, one bounded figure"
    measure i20 "$BEFORE20" 'submit|deposit|mint|pokeGrowthCap|fulfil|withdraw|totalAssets|convertToAssets|price' GasBounds
fi
