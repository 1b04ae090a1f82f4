#!/usr/bin/env bash
# The Python side: builds the gaib wheel once (maturin, release, into the workspace's target/),
# installs it with the test dependencies from PyPI into python/.venv, and runs pytest
# (python/tests: the API, every error type, equality with the CLI's files, Dask on a 2-worker
# LocalCluster, polars round trips, the README's quick start) and every notebook (nbclient).
# Usage: ./scripts/python-test.sh    (scripts/test.sh calls it after the cargo steps, so the
# CLI binary target/debug/gaib the tests compare against is already built.)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=python/.venv
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "maturin>=1.16,<2" "polars>=1.0" pytest \
  dask distributed nbclient nbformat ipykernel matplotlib

# One release build of the extension, reusing the workspace's target directory (a clean
# 2-core machine: ~6 min, most of it the optimised build of gaib's crates and their deps).
export CARGO_TARGET_DIR="$PWD/target"
rm -rf target/wheels/gaib-*.whl
start=$(date +%s)
"$VENV/bin/maturin" build --quiet -m python/Cargo.toml --release --locked -o target/wheels
echo "wheel built in $(( $(date +%s) - start )) s: $(ls target/wheels/gaib-*.whl)"
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps target/wheels/gaib-*.whl

# The CLI the tests compare byte for byte against (already built by `cargo test`).
if [ -z "${GAIB_BIN:-}" ] && [ ! -x target/debug/gaib ]; then
  cargo build -p gaib-cli --bin gaib --locked
fi


# From the repository root, so that python/gaib (the sources) does not shadow the wheel.
MPLBACKEND=Agg "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests "$@"
