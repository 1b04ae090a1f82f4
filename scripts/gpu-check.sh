#!/usr/bin/env bash
# The device check of the CUDA backend (gaib-gpu-kernels), for a GPU machine without Rust.
#
#   scripts/gpu-check.sh --build        here (with Rust): builds the small stripped release
#                                       binary gpu-kernels/.tools/bin/gaib-gpu-check (no alloy,
#                                       sample portfolio and scenarios compiled in)
#   scripts/gpu-check.sh [OUT] [ARGS]   on the GPU machine: parity CUDA vs CPU on the device
#                                       (sample + gpu-glut, utilization-collapse, bank-run at
#                                       20 000 paths), deal-steps/s of the CPU backend (all
#                                       cores) and of CUDA at 1e5, 1e6, 1e7 paths, and the time
#                                       to first result including the NVRTC compile; writes the
#                                       report to OUT (default gpu-check-results.txt) with the
#                                       date, GPU and driver. ARGS go to the binary, e.g.
#                                       --cuda-paths 1e5,1e6 --cpu-paths 1e5 --parity-paths 2e4
#   scripts/gpu-check.sh --host [ARGS]  the same flow against the host-compiled kernel (a
#                                       self-test of the binary on a machine without a GPU)
#
# NVRTC is found in LD_LIBRARY_PATH, the CUDA toolkit (/usr/local/cuda*/lib64) or the PyPI
# venv of scripts/nvrtc-tools.sh; libcuda comes with the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=gpu-kernels/.tools/bin/gaib-gpu-check

if [ "${1:-}" = "--build" ]; then
  cargo build --release --locked -p gaib-gpu-kernels --bin gaib-gpu-check \
    --config 'profile.release.debug=0' --config 'profile.release.strip="symbols"'
  mkdir -p "$(dirname "$bin")"
  cp target/release/gaib-gpu-check "$bin"
  ls -l "$bin"
  exit 0
fi

[ -x "$bin" ] || { echo "no $bin: build it with 'scripts/gpu-check.sh --build' (needs Rust) and carry it" >&2; exit 2; }

if [ "${1:-}" = "--host" ]; then
  shift
  exec "$bin" --host "$@"
fi

out="${1:-gpu-check-results.txt}"
[ $# -gt 0 ] && shift
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 \
         gpu-kernels/.tools/venv/lib/python3*/site-packages/nvidia/cu13/lib; do
  if ls "$d"/libnvrtc.so* >/dev/null 2>&1; then
    export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    break
  fi
done
{
  echo "# gaib gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    | sed 's/^/gpu: /' || echo "gpu: nvidia-smi unavailable"
  echo "cpu cores: $(nproc)"
} > "$out"
set +e
"$bin" --out "$out.body" "$@"
rc=$?
set -e
[ -f "$out.body" ] && cat "$out.body" >> "$out" && rm -f "$out.body"
echo "exit status: $rc" >> "$out"
echo "wrote $out"
exit "$rc"
