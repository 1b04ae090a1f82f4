#!/usr/bin/env bash
# End-to-end smoke test on a local anvil chain, outside forge's test EVM:
#   1. deploys AID, TestStablecoin (6 dec), AIDMinter, ValuationOracle (3 signers, quorum 2),
#      sAID and LendingMarket with `forge create`;
#   2. signs a ValuationReport as EIP-712 typed data with `cast wallet sign --data` (an encoder
#      independent of the contract's) and submits it with `cast send`;
#   3. mints AID against the stablecoin, deposits into sAID, and reads the vault NAV, the
#      Chainlink answer and the Morpho price back.
# Exits non-zero on any mismatch. Needs the tools from install-tools.sh and a built project.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="$ROOT/.tools/bin"
cd "$ROOT/solidity"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
RPC="http://127.0.0.1:$PORT"
LOG="$(mktemp)"
"$BIN/anvil" --port "$PORT" --chain-id 31337 > "$LOG" 2>&1 &
ANVIL_PID=$!
cleanup() { kill "$ANVIL_PID" 2>/dev/null || true; wait "$ANVIL_PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    "$BIN/cast" chain-id --rpc-url "$RPC" >/dev/null 2>&1 && break
    sleep 0.1
done

# anvil's well-known dev keys (test mnemonic)
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # admin / deployer
K1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # signer
K2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a # signer
K3=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6 # signer
A0="$("$BIN/cast" wallet address "$K0")"
A1="$("$BIN/cast" wallet address "$K1")"
A2="$("$BIN/cast" wallet address "$K2")"
A3="$("$BIN/cast" wallet address "$K3")"

fail() { echo "anvil-smoke: FAIL: $*" >&2; exit 1; }
create() { # contract, constructor args...
    local c="$1"; shift
    local args=()
    [[ $# -gt 0 ]] && args=(--constructor-args "$@")
    "$BIN/forge" create "$c" --rpc-url "$RPC" --private-key "$K0" --broadcast --json "${args[@]}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployedTo"])'
}
send() { "$BIN/cast" send --rpc-url "$RPC" --private-key "$K0" "$@" >/dev/null; }
call() { "$BIN/cast" call --rpc-url "$RPC" "$@" | awk '{print $1}'; }

SAID_ID="$("$BIN/cast" keccak sAID)"
AID="$(create src/AID.sol:AID "$A0")"
USD="$(create src/test-helpers/TestStablecoin.sol:TestStablecoin "Test USD" tUSD 6)"
MINTER="$(create src/AIDMinter.sol:AIDMinter "$AID" "$USD")"
ORACLE="$(create src/ValuationOracle.sol:ValuationOracle "$A0" "$SAID_ID" "sAID / AID NAV" 18 24 "[$A1,$A2,$A3]" 2 172800 500)"
VAULT="$(create src/SAID.sol:SAID "$AID" "$ORACLE" "$A0")"
MARKET="$(create src/LendingMarket.sol:LendingMarket "$VAULT" "$AID" "$ORACLE")"
echo "anvil-smoke: deployed AID=$AID oracle=$ORACLE sAID=$VAULT market=$MARKET"

# --- sign a report as EIP-712 typed data with cast, submit it
TS="$("$BIN/cast" block latest --field timestamp --rpc-url "$RPC")"
RUN_ID="$("$BIN/cast" keccak smoke-run)"
TYPED="$(mktemp)"
cat > "$TYPED" <<JSON
{
  "types": {
    "EIP712Domain": [
      {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}
    ],
    "ValuationReport": [
      {"name": "asset", "type": "bytes32"}, {"name": "navPerShare", "type": "uint256"},
      {"name": "deployedValue", "type": "uint256"}, {"name": "haircutBps", "type": "uint16"},
      {"name": "ltvBps", "type": "uint16"}, {"name": "observedAt", "type": "uint64"},
      {"name": "validUntil", "type": "uint64"}, {"name": "runId", "type": "bytes32"},
      {"name": "round", "type": "uint64"}
    ]
  },
  "primaryType": "ValuationReport",
  "domain": {"name": "gaib ValuationOracle", "version": "1", "chainId": 31337, "verifyingContract": "$ORACLE"},
  "message": {
    "asset": "$SAID_ID", "navPerShare": "1000000000000000000", "deployedValue": "0",
    "haircutBps": 1000, "ltvBps": 8000, "observedAt": $TS, "validUntil": $((TS + 86400)),
    "runId": "$RUN_ID", "round": 1
  }
}
JSON
SIG1="$("$BIN/cast" wallet sign --private-key "$K1" --data --from-file "$TYPED")"
SIG3="$("$BIN/cast" wallet sign --private-key "$K3" --data --from-file "$TYPED")"
rm -f "$TYPED"
REPORT="($SAID_ID,1000000000000000000,0,1000,8000,$TS,$((TS + 86400)),$RUN_ID,1)"
RTYPE="(bytes32,uint256,uint256,uint16,uint16,uint64,uint64,bytes32,uint64)"
# one signature is below quorum: must revert
if "$BIN/cast" send --rpc-url "$RPC" --private-key "$K0" "$ORACLE" "submit($RTYPE,bytes[])" "$REPORT" "[$SIG1]" >/dev/null 2>&1; then
    fail "a report with 1 of quorum 2 signatures was accepted"
fi
send "$ORACLE" "submit($RTYPE,bytes[])" "$REPORT" "[$SIG1,$SIG3]"
[[ "$(call "$ORACLE" 'latestRound()(uint64)')" == 1 ]] || fail "round not stored"
ANSWER="$("$BIN/cast" call --rpc-url "$RPC" "$ORACLE" 'latestRoundData()(uint80,int256,uint256,uint256,uint80)' | sed -n 2p | awk '{print $1}')"
[[ "$ANSWER" == 1000000000000000000 ]] || fail "latestRoundData answer $ANSWER"
PRICE="$(call "$ORACLE" 'price()(uint256)')"
[[ "$PRICE" == 1000000000000000000000000000000 ]] || fail "price $PRICE"
echo "anvil-smoke: cast-signed EIP-712 report accepted (quorum 2 of 3; 1 of 3 rejected), price=$PRICE"

# --- mint AID against the stablecoin and deposit into sAID
MINTER_ROLE="$(call "$AID" 'MINTER_ROLE()(bytes32)')"
send "$AID" 'grantRole(bytes32,address)' "$MINTER_ROLE" "$MINTER"
send "$USD" 'mint(address,uint256)' "$A0" 1000000000
send "$USD" 'approve(address,uint256)' "$MINTER" 1000000000
send "$MINTER" 'mint(uint256,address)' 1000000000 "$A0"
[[ "$(call "$AID" 'balanceOf(address)(uint256)' "$A0")" == 1000000000000000000000 ]] || fail "AID not minted 1:1"
send "$AID" 'approve(address,uint256)' "$VAULT" 1000000000000000000000
send "$VAULT" 'deposit(uint256,address)' 1000000000000000000000 "$A0"
TA="$(call "$VAULT" 'totalAssets()(uint256)')"
SH="$(call "$VAULT" 'balanceOf(address)(uint256)' "$A0")"
[[ "$TA" == 1000000000000000000000 ]] || fail "totalAssets $TA"
[[ "$SH" == 1000000000000000000000000000 ]] || fail "shares $SH"
LIMIT="$(call "$MARKET" 'borrowLimit(uint256)(uint256)' "$SH")"
[[ "$LIMIT" == 800000000000000000000 ]] || fail "borrow limit $LIMIT"
echo "anvil-smoke: 1000 tUSD -> 1000 AID -> 1000e24 sAID; totalAssets=$TA; borrow limit=$LIMIT"
echo "anvil-smoke: OK"
