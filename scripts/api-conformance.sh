#!/usr/bin/env bash
# The service against its own contract: schemathesis (pinned, from PyPI, in target/schemathesis-venv)
# reads /openapi.json of a live `gaib serve` on 127.0.0.1 (temporary database, an admin key)
# and sends bounded generated requests, valid and invalid, to every operation; each answer must
# not be a 5xx and must have a documented status, content type and body schema.
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
# From the temporary directory, where schemathesis leaves its cache (.schemathesis/).
status=0
(cd "$tmp" && "$venv/bin/schemathesis" run "http://$addr/openapi.json" \
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
