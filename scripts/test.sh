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

step "API contract: schemathesis (pinned, PyPI) against a live gaib serve (~30 s with its install)"
bash scripts/api-conformance.sh

step "gpu-kernels: NVRTC compile check for compute_80/90 (NVRTC from PyPI, no GPU needed)"
nvrtc_lib=$(bash scripts/nvrtc-tools.sh)
LD_LIBRARY_PATH="$nvrtc_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" GAIB_REQUIRE_NVRTC=1 \
  cargo test -p gaib-gpu-kernels --locked --test nvrtc

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

step "layering: gaib-market sits below the run layer"
# (rand is allowed: statrs and nalgebra pull it in; the market layer draws no random numbers.)
bad=$(cargo tree -p gaib-market -e normal --prefix none --locked | grep -E '^(gaib-[a-z-]+|tokio|cudarc|alloy|axum|pyo3|polars|rayon) ' | grep -v '^gaib-market ' || true)
if [ -n "$bad" ]; then
  echo "gaib-market must depend on no other gaib crate, runtime, GPU, chain, HTTP or Python crate:"
  echo "$bad"
  exit 1
fi
echo "ok"

if [ -f contracts-bindings/scripts/test.sh ]; then
  step "Solidity contracts (forge, from npm)"
  bash contracts-bindings/scripts/test.sh
fi

step "Python: the gaib wheel (maturin, one release build), pytest, the notebooks"
bash scripts/python-test.sh

step "all tests passed"
