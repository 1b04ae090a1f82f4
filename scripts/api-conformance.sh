#!/usr/bin/env bash
# The service against its own contract: schemathesis (pinned, from PyPI, in target/schemathesis-venv)
# reads /openapi.json of a live `gaib serve` on 127.0.0.1 (temporary database, an admin key, a
# stored portfolio and a finished job whose ids it uses) and sends bounded generated requests,
# valid and invalid, to every operation; each answer must not be a 5xx and must have a
# documented status, content type and body schema.
#
#   scripts/api-conformance.sh [--max-examples N]    (default 8 per operation)
#
# scripts/test.sh runs it after `cargo test`, which built target/debug/gaib (GAIB_BIN overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# The Hypothesis it was checked with (a newer one may change what is generated).
HYPOTHESIS_VERSION=6.170.27
max_examples=8
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) max_examples=$2; shift 2 ;;
    *) echo "usage: $0 [--max-examples N]" >&2; exit 2 ;;
  esac
done
start=$(date +%s)

venv=$PWD/target/schemathesis-venv
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION"
fi

gaib=${GAIB_BIN:-target/debug/gaib}
if [ -z "${GAIB_BIN:-}" ] && [ ! -x "$gaib" ]; then
  cargo build -p gaib-cli --bin gaib --locked
fi

tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Limits that let generated requests through (no 429 from the rate limit) and keep any job a
# generated request might start small.
cat > "$tmp/serve.toml" <<EOF
rate_limit_per_minute = 100000
rate_limit_burst = 100000
max_jobs_per_key = 1000
max_paths_per_job = 1000
workers = 1
threads = 1
EOF
key=$("$gaib" keys create --name schemathesis --role admin --db "$tmp/gaib.db" 2>/dev/null)
RUST_LOG=warn "$gaib" serve --config "$tmp/serve.toml" --listen 127.0.0.1:0 --db "$tmp/gaib.db" \
  2>"$tmp/serve.log" &
server=$!
addr=
for _ in $(seq 1 200); do
  addr=$(sed -n 's/^gaib serve: listening on http:\/\///p' "$tmp/serve.log" | head -1)
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$addr" ]; then
  echo "gaib serve did not start:" >&2
  cat "$tmp/serve.log" >&2
  exit 1
fi

# One worker: with two, Python 3.11 sometimes fails inside Hypothesis ("AST constructor
# recursion depth mismatch") while it describes the deep portfolio schema's strategies.
# Test data, so that the operations on a portfolio and a job reach their success paths too: the
# small test portfolio and a finished 200-path job of it, whose ids schemathesis uses for {id}.
python3 -c 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))' \
  tests/fixtures/valid/small.toml > "$tmp/small.json"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
portfolio=$(curl -sf -H "Authorization: Bearer $key" --data-binary @"$tmp/small.json" \
  "http://$addr/v1/portfolios" | json_field id)
job=$(curl -sf -H "Authorization: Bearer $key" \
  --data "{\"portfolio_id\":\"$portfolio\",\"paths\":200,\"seed\":1}" \
  "http://$addr/v1/simulations" | json_field id)
for _ in $(seq 1 600); do
  state=$(curl -sf "http://$addr/v1/simulations/$job" | json_field state)
  case "$state" in succeeded) break ;; failed|cancelled) echo "job $job $state" >&2; exit 1 ;; esac
  sleep 0.1
done
[ "$state" = succeeded ] || { echo "job $job did not finish" >&2; exit 1; }
cat > "$tmp/schemathesis.toml" <<EOF
[[operations]]
include-path-regex = "^/v1/simulations/[{]id[}]"
parameters = { "path.id" = "$job" }

[[operations]]
include-path = "/v1/portfolios/{id}"
include-method = "GET"
parameters = { "path.id" = "$portfolio" }
EOF

# From the temporary directory, where schemathesis leaves its cache (.schemathesis/).
status=0
(cd "$tmp" && "$venv/bin/schemathesis" --config-file "$tmp/schemathesis.toml" run "http://$addr/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Bearer $key" \
  --max-examples "$max_examples" --seed 1 --generation-database none \
  --phases examples,coverage,fuzzing --request-timeout 10 \
  --workers 1 \
  --no-color) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- gaib serve's log (warnings and errors) ---" >&2
  tail -n 50 "$tmp/serve.log" >&2
fi
echo "api conformance: $(( $(date +%s) - start )) s (install included)"
exit "$status"
