#!/usr/bin/env bash
# Copies the compiled ABI and creation bytecode of gaib's contracts from the forge build output
# (contracts-bindings/solidity/out/) into contracts-bindings/artifacts/<Contract>.json, which is
# checked in so Rust builds (alloy `sol!`) need no forge. Each file keeps only `abi` and
# `bytecode.object` (plus `deployedBytecode.object`). Run after `forge build`; prints which files
# changed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$ROOT/solidity/out"
DEST="$ROOT/artifacts"
CONTRACTS=(AID AIDMinter SAID ValuationOracle RevenueRouter LendingMarket MorphoOracleAdapter TestStablecoin TranchedPool TrancheToken TrancheOracle)
mkdir -p "$DEST"
for c in "${CONTRACTS[@]}"; do
    src="$(ls "$OUT"/*.sol/"$c".json 2>/dev/null | head -1 || true)"
    if [[ -z "$src" ]]; then
        echo "export-artifacts: no build output for $c under $OUT (run forge build first)" >&2
        exit 1
    fi
    node -e '
const fs = require("fs");
const [src, dst] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(src, "utf8"));
const slim = { abi: a.abi, bytecode: { object: a.bytecode.object },
               deployedBytecode: { object: a.deployedBytecode.object } };
const text = JSON.stringify(slim, null, 1) + "\n";
const old = fs.existsSync(dst) ? fs.readFileSync(dst, "utf8") : "";
if (old !== text) { fs.writeFileSync(dst, text); console.log("export-artifacts: updated " + dst); }
' "$src" "$DEST/$c.json"
done
