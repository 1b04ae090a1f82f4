#!/usr/bin/env bash
# Writes contracts-bindings/artifacts/eip712-vectors.json: one ValuationReport, its EIP-712
# typeHash / structHash / domainSeparator / digest computed with `cast keccak` + `cast
# abi-encode` (independently of the contract), and its signature by a public test key, made
# twice: over the raw digest (`cast wallet sign --no-hash`) and over the typed-data JSON
# (`cast wallet sign --data`, alloy's EIP-712 encoder, the one the Rust side uses). The two must
# agree. solidity/test/Eip712Vectors.t.sol then checks the contract against the file.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CAST="$ROOT/.tools/bin/cast"
OUT="$ROOT/artifacts/eip712-vectors.json"

TYPE='ValuationReport(bytes32 asset,uint256 navPerShare,uint256 deployedValue,uint16 haircutBps,uint16 ltvBps,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)'
CHAIN_ID=31337
# address forge gives the first contract the test deploys (Eip712VectorsTest)
VERIFYING=0x5615dEB798BB3E4dFa0139dFa1b3D433Cc23b72f
KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil dev account 1
ASSET="$("$CAST" keccak sAID)"
NAV=1034500000000000000
DEPLOYED=123456789000000000000000
HAIRCUT=1500
LTV=7500
OBSERVED=1800000000
VALID=1800086400
RUN_ID=0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 # sha256("test")
ROUND=7

TYPEHASH="$("$CAST" keccak "$TYPE")"
STRUCT="$("$CAST" keccak "$("$CAST" abi-encode 'f(bytes32,bytes32,uint256,uint256,uint16,uint16,uint64,uint64,bytes32,uint64)' \
    "$TYPEHASH" "$ASSET" "$NAV" "$DEPLOYED" "$HAIRCUT" "$LTV" "$OBSERVED" "$VALID" "$RUN_ID" "$ROUND")")"
DOMAIN_TYPEHASH="$("$CAST" keccak 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)')"
DOMAIN="$("$CAST" keccak "$("$CAST" abi-encode 'f(bytes32,bytes32,bytes32,uint256,address)' \
    "$DOMAIN_TYPEHASH" "$("$CAST" keccak 'gaib ValuationOracle')" "$("$CAST" keccak 1)" "$CHAIN_ID" "$VERIFYING")")"
DIGEST="$("$CAST" keccak "0x1901${DOMAIN#0x}${STRUCT#0x}")"
SIG_RAW="$("$CAST" wallet sign --no-hash --private-key "$KEY" "$DIGEST")"
TYPED="$(mktemp)"
trap 'rm -f "$TYPED"' EXIT
cat > "$TYPED" <<JSON
{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
"ValuationReport":[{"name":"asset","type":"bytes32"},{"name":"navPerShare","type":"uint256"},{"name":"deployedValue","type":"uint256"},{"name":"haircutBps","type":"uint16"},{"name":"ltvBps","type":"uint16"},{"name":"observedAt","type":"uint64"},{"name":"validUntil","type":"uint64"},{"name":"runId","type":"bytes32"},{"name":"round","type":"uint64"}]},
"primaryType":"ValuationReport",
"domain":{"name":"gaib ValuationOracle","version":"1","chainId":$CHAIN_ID,"verifyingContract":"$VERIFYING"},
"message":{"asset":"$ASSET","navPerShare":"$NAV","deployedValue":"$DEPLOYED","haircutBps":$HAIRCUT,"ltvBps":$LTV,"observedAt":$OBSERVED,"validUntil":$VALID,"runId":"$RUN_ID","round":$ROUND}}
JSON
SIG_TYPED="$("$CAST" wallet sign --private-key "$KEY" --data --from-file "$TYPED")"
if [[ "$SIG_RAW" != "$SIG_TYPED" ]]; then
    echo "eip712-vectors: digest signature $SIG_RAW != typed-data signature $SIG_TYPED" >&2
    exit 1
fi
SIGNER="$("$CAST" wallet address "$KEY")"
cat > "$OUT" <<JSON
{
  "comment": "EIP-712 ValuationReport vector made by scripts/eip712-vectors.sh with cast (independent of the contract) and checked against the contract by solidity/test/Eip712Vectors.t.sol. signerKey is anvil's public dev account #1. signature = r || s || v (v = 27/28), RFC-6979 deterministic; identical whether signed over digest or over the typed-data JSON.",
  "typeString": "$TYPE",
  "typeHash": "$TYPEHASH",
  "domain": {
    "name": "gaib ValuationOracle",
    "version": "1",
    "chainId": $CHAIN_ID,
    "verifyingContract": "$VERIFYING"
  },
  "signerKey": "$KEY",
  "signer": "$SIGNER",
  "report": {
    "asset": "$ASSET",
    "navPerShare": "$NAV",
    "deployedValue": "$DEPLOYED",
    "haircutBps": $HAIRCUT,
    "ltvBps": $LTV,
    "observedAt": $OBSERVED,
    "validUntil": $VALID,
    "runId": "$RUN_ID",
    "round": $ROUND
  },
  "structHash": "$STRUCT",
  "domainSeparator": "$DOMAIN",
  "digest": "$DIGEST",
  "signature": "$SIG_RAW"
}
JSON
echo "wrote $OUT"

# --- The second report type: TranchePriceReport (TrancheOracle), same domain name and version,
# written to artifacts/eip712-tranche-vectors.json and checked by solidity/test/TrancheOracle.t.sol
# and the Rust signer. uint256[] is hashed as keccak256 of the concatenated 32-byte words.
TOUT="$ROOT/artifacts/eip712-tranche-vectors.json"
TTYPE='TranchePriceReport(bytes32 pool,uint64 period,uint256[] prices,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)'
POOL="$("$CAST" keccak pool-a)"
TPERIOD=5 # the pool's period() the prices are for (review finding M1)
PRICES=(1001250000000000000 987600000000000000 431000000000000000)
TROUND=3
TTYPEHASH="$("$CAST" keccak "$TTYPE")"
WORDS=""
for p in "${PRICES[@]}"; do
    w="$("$CAST" to-uint256 "$p")"
    WORDS="$WORDS${w#0x}"
done
PRICES_HASH="$("$CAST" keccak "0x$WORDS")"
TSTRUCT="$("$CAST" keccak "$("$CAST" abi-encode 'f(bytes32,bytes32,uint64,bytes32,uint64,uint64,bytes32,uint64)' \
    "$TTYPEHASH" "$POOL" "$TPERIOD" "$PRICES_HASH" "$OBSERVED" "$VALID" "$RUN_ID" "$TROUND")")"
TDIGEST="$("$CAST" keccak "0x1901${DOMAIN#0x}${TSTRUCT#0x}")"
TSIG_RAW="$("$CAST" wallet sign --no-hash --private-key "$KEY" "$TDIGEST")"
PJSON="$(printf '"%s",' "${PRICES[@]}")"
PJSON="[${PJSON%,}]"
cat > "$TYPED" <<JSON
{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
"TranchePriceReport":[{"name":"pool","type":"bytes32"},{"name":"period","type":"uint64"},{"name":"prices","type":"uint256[]"},{"name":"observedAt","type":"uint64"},{"name":"validUntil","type":"uint64"},{"name":"runId","type":"bytes32"},{"name":"round","type":"uint64"}]},
"primaryType":"TranchePriceReport",
"domain":{"name":"gaib ValuationOracle","version":"1","chainId":$CHAIN_ID,"verifyingContract":"$VERIFYING"},
"message":{"pool":"$POOL","period":$TPERIOD,"prices":$PJSON,"observedAt":$OBSERVED,"validUntil":$VALID,"runId":"$RUN_ID","round":$TROUND}}
JSON
TSIG_TYPED="$("$CAST" wallet sign --private-key "$KEY" --data --from-file "$TYPED")"
if [[ "$TSIG_RAW" != "$TSIG_TYPED" ]]; then
    echo "eip712-vectors: tranche digest signature $TSIG_RAW != typed-data signature $TSIG_TYPED" >&2
    exit 1
fi
cat > "$TOUT" <<JSON
{
  "comment": "EIP-712 TranchePriceReport vector made by scripts/eip712-vectors.sh with cast (independent of the contract) and checked against TrancheOracle by solidity/test/TrancheOracle.t.sol and by the Rust signer. Same domain, key and conventions as eip712-vectors.json.",
  "typeString": "$TTYPE",
  "typeHash": "$TTYPEHASH",
  "domain": {
    "name": "gaib ValuationOracle",
    "version": "1",
    "chainId": $CHAIN_ID,
    "verifyingContract": "$VERIFYING"
  },
  "signerKey": "$KEY",
  "signer": "$SIGNER",
  "report": {
    "pool": "$POOL",
    "period": $TPERIOD,
    "prices": $PJSON,
    "observedAt": $OBSERVED,
    "validUntil": $VALID,
    "runId": "$RUN_ID",
    "round": $TROUND
  },
  "pricesHash": "$PRICES_HASH",
  "structHash": "$TSTRUCT",
  "domainSeparator": "$DOMAIN",
  "digest": "$TDIGEST",
  "signature": "$TSIG_RAW"
}
JSON
echo "eip712-vectors: wrote $TOUT"
