#!/usr/bin/env bash
# The one test command: formatting, lints, all Rust tests, docs, layering, Solidity tests.
# Usage: ./scripts/test.sh        (from anywhere; CI runs it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ -f contracts-bindings/scripts/install-tools.sh ]; then
  step "tools: forge, anvil, solc, OpenZeppelin (npm, pinned; idempotent)"
  bash contracts-bindings/scripts/install-tools.sh >/dev/null
  export GAIB_ANVIL="$PWD/contracts-bindings/.tools/bin/anvil"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "layering: gaib-engine stays pure"
bad=$(cargo tree -p gaib-engine -e normal --prefix none --locked | grep -E '^(tokio|cudarc|alloy|axum|pyo3|polars|rayon|rand) ' || true)
if [ -n "$bad" ]; then
  echo "gaib-engine must not depend on runtimes, GPUs, chains, HTTP, Python or randomness:"
  echo "$bad"
  exit 1
fi
echo "ok"

if [ -f contracts-bindings/scripts/test.sh ]; then
  step "Solidity contracts (forge, from npm)"
  bash contracts-bindings/scripts/test.sh
fi

step "all tests passed"
