#!/usr/bin/env bash
# Bounded load test of the valuation service on 127.0.0.1 (wrk, Debian package `wrk`):
# GET /v1/collateral/{asset} of `gaib serve` at 64 connections, then the same for a bare axum
# handler returning a body of the same size (api/examples/bare_axum.rs), in the same run;
# prints requests/s, p50 and p99 latency of both and the ratio.
#
#   scripts/bench-api.sh [--profile release|test] [--duration 10s] [--connections 64] [--threads 2]
#
# Targets (docs/API.md): the service ≥ 50 % of the bare throughput, p99 < 5 ms at 64 connections.
# `--profile test` reuses the test build (opt-level 2) instead of building release.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
duration=10s
connections=64
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: $0 [--profile release|test] [--duration 10s] [--connections 64] [--threads 2]" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 2; }

cargo build --quiet --profile "$profile" -p gaib-cli --bin gaib
cargo build --quiet --profile "$profile" -p gaib-api --example bare_axum
case "$profile" in
  release) out=target/release ;;
  test|dev) out=target/debug ;;
  *) out=target/$profile ;;
esac
gaib=$out/gaib
bare=$out/examples/bare_axum

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Waits for "listening on http://ADDR" in a log; prints ADDR.
addr_of() {
  for _ in $(seq 1 200); do
    a=$(sed -n 's/.*listening on http:\/\///p' "$1" | head -1)
    if [ -n "$a" ]; then echo "$a"; return 0; fi
    sleep 0.05
  done
  echo "no listening line in $1:" >&2; cat "$1" >&2; return 1
}

key=$("$gaib" keys create --name bench --db "$tmp/gaib.db" 2>/dev/null)
admin=$("$gaib" keys create --name bench-admin --role admin --db "$tmp/gaib.db" 2>/dev/null)
# The bench's 1000-path valuation is published (the default guard wants 10 000 paths).
echo 'min_publish_paths = 1000' > "$tmp/serve.toml"
"$gaib" serve --config "$tmp/serve.toml" --listen 127.0.0.1:0 --db "$tmp/gaib.db" --threads 2 \
  2>"$tmp/serve.log" &
pids+=($!)
svc=$(addr_of "$tmp/serve.log")
# sAID is the bench key's asset: registered once, by the admin key.
owner=$(echo "$key" | cut -d_ -f2)
curl -sf -H "Authorization: Bearer $admin" \
  --data "{\"asset\":\"sAID\",\"owner_key_id\":\"$owner\"}" "http://$svc/v1/assets" >/dev/null

# A valuation to serve: the small test portfolio, 1000 paths.
python3 -c 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))' \
  tests/fixtures/valid/small.toml > "$tmp/small.json"
pid=$(curl -sf -H "Authorization: Bearer $key" --data-binary @"$tmp/small.json" \
  "http://$svc/v1/portfolios" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
job=$(curl -sf -H "Authorization: Bearer $key" \
  --data "{\"portfolio_id\":\"$pid\",\"paths\":1000,\"seed\":1}" \
  "http://$svc/v1/simulations" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 600); do
  state=$(curl -sf "http://$svc/v1/simulations/$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [ "$state" = succeeded ] && break
  case "$state" in failed|cancelled) echo "job $job $state" >&2; exit 1 ;; esac
  sleep 0.1
done
[ "$state" = succeeded ] || { echo "job $job did not finish" >&2; exit 1; }
body=$(curl -sf "http://$svc/v1/collateral/sAID")
size=${#body}

"$bare" --listen 127.0.0.1:0 --bytes "$size" 2>"$tmp/bare.log" &
pids+=($!)
bare_addr=$(addr_of "$tmp/bare.log")
[ "$(curl -sf "http://$bare_addr/v1/collateral/sAID" | wc -c)" -eq "$size" ] || {
  echo "bare body size differs" >&2; exit 1; }

# Runs wrk; prints "requests/s p50_ms p99_ms".
load() {
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$1" > "$tmp/wrk.txt"
  python3 - "$tmp/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x, u = float(m.group(1)), m.group(2)
    return x / 1000 if u == "us" else x * 1000 if u == "s" else x
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errs:
    sys.exit(f"{errs.group(1)} non-2xx answers")
print(f"{rps:.0f} {p50:.3f} {p99:.3f}")
PY
}

read -r s_rps s_p50 s_p99 < <(load "http://$svc/v1/collateral/sAID")
read -r b_rps b_p50 b_p99 < <(load "http://$bare_addr/v1/collateral/sAID")
echo "GET /v1/collateral/{asset}: body $size bytes, $connections connections, $threads wrk threads, $duration each ($profile build)"
printf "%-12s %12s %10s %10s\n" "" "requests/s" "p50 ms" "p99 ms"
printf "%-12s %12s %10s %10s\n" "gaib serve" "$s_rps" "$s_p50" "$s_p99"
printf "%-12s %12s %10s %10s\n" "bare axum" "$b_rps" "$b_p50" "$b_p99"
python3 -c "import sys; s,b=float(sys.argv[1]),float(sys.argv[2]); print(f'ratio gaib serve / bare axum: {s/b:.2f} (target ≥ 0.50); p99 {sys.argv[3]} ms (target < 5 ms)')" "$s_rps" "$b_rps" "$s_p99"
