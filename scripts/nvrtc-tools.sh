#!/usr/bin/env bash
# Installs NVIDIA's NVRTC runtime from PyPI (package nvidia-cuda-nvrtc: libnvrtc.so.13, runs
# without a GPU or driver) into gpu-kernels/.tools/venv, idempotently, and prints the folder
# holding libnvrtc.so.13 (for LD_LIBRARY_PATH). Used by scripts/test.sh for the NVRTC compile
# check of gaib-gpu-kernels (shared/design/TOOLCHAIN.md, "NVRTC without a GPU").
# Usage: lib=$(bash scripts/nvrtc-tools.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned: the kernels are checked against this NVRTC (CUDA 13.0 driver API of cudarc's
# cuda-13000 feature; NVRTC 13.x accepts compute_80 and compute_90).
VERSION="${GAIB_NVRTC_VERSION:-13.0.88}"
venv=gpu-kernels/.tools/venv
find_lib() { find "$venv" -name 'libnvrtc.so.13' -print -quit 2>/dev/null; }
lib=$(find_lib || true)
if [ -z "$lib" ] || [ "$(cat "$venv/.nvrtc-version" 2>/dev/null)" != "$VERSION" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "nvidia-cuda-nvrtc==$VERSION" >&2
  echo "$VERSION" > "$venv/.nvrtc-version"
  lib=$(find_lib)
fi
[ -n "$lib" ] || { echo "libnvrtc.so.13 not found under $venv" >&2; exit 1; }
dirname "$(realpath "$lib")"
