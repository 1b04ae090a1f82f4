#!/usr/bin/env bash
# Speed and memory of the CPU Monte Carlo backend, in one run (docs/PERFORMANCE.md):
#  1. deal-steps/s (paths × deals × months / s) on the sample portfolio at 1 thread and at all
#     threads;
#  2. instructions per deal-step by callgrind, marginal: (I(6000 paths) − I(2000 paths)) /
#     (4000 × deals × months), one thread, in lanes of four paths (valgrind hides AVX-512) and
#     one path at a time (skipped with a note when valgrind is absent);
#  3. the paired CPU-time ratio against the vectorised NumPy implementation of the same model
#     (scripts/bench_numpy.py) on data/portfolios/bench12.toml (12 deals, 48 months): gaib and
#     NumPy back to back, PAIRS times, each whole process's user + system CPU time, one thread
#     each; then NumPy's E[loss], PD and E[PV] checked against gaib's within Monte Carlo error;
#  4. the peak RSS at 1e4 and 1e6 paths side by side with their ratio (target: ≤ 1.2);
#  5. the cost of compute-price derivatives per deal-step (MODEL.md §10): the sample against
#     the same sample with 10 derivatives (data/portfolios/sample_hedged.toml's, hedges among
#     them, filled up to 10 from: a future, a hedging cap with a basis factor, a hedging swap, a
#     floor and a revenue floor), back to back, PAIRS times, single-thread CPU time, reported as the
#     median ratio (target: < 1.10, i.e. < 10 % extra), and callgrind's marginal instructions
#     per deal-step of both when valgrind is present. Both have the same deals and months, so
#     the CPU-time ratio is the ratio of the costs per deal-step.
# Ratios and instruction counts are what to compare: wall-clock rates move with the machine's
# load, a paired ratio and callgrind's count barely do. Not run in CI.
# Usage: scripts/bench.sh [--quick] [--criterion]
#   --quick: 1e5 instead of 1e6 paths for the memory check, 1 NumPy pair instead of 3
#   --criterion: also run the criterion benchmark
# Environment: NUMPY_PATHS (default 20000), PAIRS (default 3), BASELINE_BIN (an older build of
# target/release/examples/throughput: adds the paired deal-steps/s ratio against it).
set -euo pipefail
cd "$(dirname "$0")/.."

PORTFOLIO=data/portfolios/sample.toml
BENCH12=data/portfolios/bench12.toml
BIG=1000000
CRITERION=0
PAIRS=${PAIRS:-3}
NUMPY_PATHS=${NUMPY_PATHS:-20000}
for a in "$@"; do
  case "$a" in
    --quick) BIG=100000; PAIRS=1 ;;
    --criterion) CRITERION=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

cargo build --release --quiet -p gaib-simulator --example throughput
BIN=target/release/examples/throughput
ALL=$(nproc)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
cpu() { # user + system CPU seconds of one whole process (GNU time, else bash's `time`)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%U %S' -o "$TMP/time" "$@" >"$TMP/out"
  else
    { TIMEFORMAT='%U %S'; time "$@" >"$TMP/out"; } 2>"$TMP/time"
  fi
  awk '{printf "%.3f", $1 + $2}' "$TMP/time"
}

echo "== throughput, sample portfolio, 20000 paths ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
one=$("$BIN" "$PORTFOLIO" 20000 1)
all=$("$BIN" "$PORTFOLIO" 20000 "$ALL")
r1=$(echo "$one" | field deal_steps_per_s)
ra=$(echo "$all" | field deal_steps_per_s)
per_path=$(echo "$one" | field deal_steps_per_path)
printf '  1 thread : %s deal-steps/s\n' "$r1"
printf '  %s threads: %s deal-steps/s  (%s per core; speed-up %s×)\n' \
  "$ALL" "$ra" "$(awk -v a="$ra" -v n="$ALL" 'BEGIN{printf "%.3e", a/n}')" \
  "$(awk -v a="$ra" -v b="$r1" 'BEGIN{printf "%.2f", a/b}')"

if [ -n "${BASELINE_BIN:-}" ]; then
  # Paired single-thread CPU time of an older build of the same example (e.g. the commit a
  # target is measured against): the deal-steps/s ratio, unaffected by the machine's load.
  echo "== paired CPU time vs BASELINE_BIN=$BASELINE_BIN, sample portfolio, 20000 paths, 1 thread, $PAIRS pairs"
  ratios=()
  for i in $(seq 1 "$PAIRS"); do
    cpu "$BASELINE_BIN" "$PORTFOLIO" 20000 1 >"$TMP/tb"
    cpu "$BIN" "$PORTFOLIO" 20000 1 >"$TMP/tn"
    r=$(awk 'NR==FNR{b=$1; next} {printf "%.3f", b/$1}' "$TMP/tb" "$TMP/tn")
    ratios+=("$r")
  done
  printf '  deal-steps/s now / baseline: %s (median of %s) (target ≥ 3)\n' \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')" \
    "${ratios[*]}"
fi

echo "== instructions per deal-step, sample portfolio, callgrind marginal (6000 − 2000 paths, 1 thread)"
if command -v valgrind >/dev/null; then
  irefs() {
    valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$1" "$BIN" "$PORTFOLIO" "$1" 1 2>&1 \
      | sed -n 's/.*I *refs: *//p' | tr -d ','
  }
  # valgrind hides AVX-512 from the program, so this counts the AVX2 build of each kernel and
  # lanes of four paths (simulator/src/lanes.rs); then the same with paths one at a time.
  i_small=$(irefs 2000)
  i_big=$(irefs 6000)
  printf '  I(2000) = %s, I(6000) = %s, deal-steps per path %s\n' "$i_small" "$i_big" "$per_path"
  printf '  %s instructions per deal-step, lanes of 4 paths (target ≤ 270)\n' \
    "$(awk -v a="$i_big" -v b="$i_small" -v d="$per_path" 'BEGIN{printf "%.1f", (a-b)/(4000*d)}')"
  o_small=$(GAIB_LANES=off irefs 2000)
  o_big=$(GAIB_LANES=off irefs 6000)
  printf '  %s instructions per deal-step, one path at a time (GAIB_LANES=off)\n' \
    "$(awk -v a="$o_big" -v b="$o_small" -v d="$per_path" 'BEGIN{printf "%.1f", (a-b)/(4000*d)}')"
else
  echo "  skipped: valgrind not found"
fi

echo "== paired CPU time vs NumPy, $BENCH12, $NUMPY_PATHS paths, 1 thread each, $PAIRS pairs"
VENV=python/.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import numpy' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet numpy
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
ratios=()
for i in $(seq 1 "$PAIRS"); do
  g=$(cpu "$BIN" "$BENCH12" "$NUMPY_PATHS" 1 --summary "$TMP/gaib.json")
  n=$(cpu "$VENV/bin/python" scripts/bench_numpy.py "$BENCH12" "$NUMPY_PATHS" --json "$TMP/numpy.json")
  r=$(awk -v n="$n" -v g="$g" 'BEGIN{printf "%.2f", n/g}')
  ratios+=("$r")
  printf '  pair %s: gaib %s s, NumPy %s s CPU: gaib %s× faster\n' "$i" "$g" "$n" "$r"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
printf '  median: gaib %s× faster than NumPy (target ≥ 5)\n' "$median"
# The last pair's figures: NumPy's E[loss], PD and E[PV] within 4.5 standard errors of gaib's.
"$VENV/bin/python" -c 'import json, sys; sys.path.insert(0, "scripts"); import bench_numpy as b
sys.exit(0 if b.check(json.load(open(sys.argv[1])), sys.argv[2]) else 1)' \
  "$TMP/numpy.json" "$TMP/gaib.json" | tail -1 | sed 's/^/  same model: /'

peak() {
  # Peak RSS in KiB: /usr/bin/time -v when present, else the program's own /proc VmHWM.
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$BIN" "$PORTFOLIO" "$1" "$ALL" 2>&1 >/dev/null \
      | sed -n 's/.*Maximum resident set size (kbytes): *//p'
  else
    "$BIN" "$PORTFOLIO" "$1" "$ALL" | field peak_rss_kib
  fi
}

echo "== peak memory (all threads)"
m_small=$(peak 10000)
start=$(date +%s)
m_big=$(peak "$BIG")
secs=$(( $(date +%s) - start ))
printf '  %-12s %-12s %s\n' "1e4 paths" "$BIG paths" "ratio (target ≤ 1.2)"
printf '  %-12s %-12s %s\n' "${m_small} KiB" "${m_big} KiB" \
  "$(awk -v a="$m_big" -v b="$m_small" 'BEGIN{printf "%.3f", a/b}')"
echo "  ($BIG paths took ${secs} s)"

echo "== cost of derivatives per deal-step: sample vs sample + 10 derivatives, 20000 paths, 1 thread, $PAIRS pairs"
# The 10-derivative portfolio: sample_hedged.toml's derivatives filled up to 10 from the list
# below, next to a copy of the loan tape it references.
cp data/portfolios/sample_loan_tape.csv "$TMP/"
n_hedged=$(grep -c '^\[\[derivatives\]\]' data/portfolios/sample_hedged.toml)
{
  cat data/portfolios/sample_hedged.toml
  awk -v n=$((10 - n_hedged)) '/^\[\[derivatives\]\]/ { c++ } c <= n' <<'TOML'

[[derivatives]]
id = "BENCH-FUT-H200"
kind = "future"
position = "short"
class_id = "H200"
fixing = "month_end"
notional_gpu_hours_per_month = 50000
strike_per_gpu_hour = 3.0
start_month = 6
end_month = 8

[[derivatives]]
id = "BENCH-CAP-H100-HELIOS"
kind = "cap"
position = "long"
class_id = "H100"
fixing = "month_end"
notional_gpu_hours_per_month = 200000
strike_per_gpu_hour = 2.0
start_month = 1
end_month = 24
premium_usd = 100000
hedges = "fl-he-h100-b"
basis_factor = 0.95

[[derivatives]]
id = "BENCH-SW-B200-NP"
kind = "swap"
position = "short"
class_id = "B200"
fixing = "average"
notional_gpu_hours_per_month = 100000
strike_per_gpu_hour = 4.5
start_month = 1
end_month = 40
hedges = "fl-np-b200-a"

[[derivatives]]
id = "BENCH-FLOOR-A100"
kind = "floor"
position = "short"
class_id = "A100"
fixing = "average"
notional_gpu_hours_per_month = 80000
strike_per_gpu_hour = 0.9
start_month = 1
end_month = 36

[[derivatives]]
id = "BENCH-RF-QUASAR"
kind = "revenue_floor"
position = "long"
fleet_id = "fl-qu-a100-a"
floor_usd_per_month = 300000
start_month = 1
end_month = 24
TOML
} >"$TMP/sample_10derivatives.toml"
WITH="$TMP/sample_10derivatives.toml"
n_dv=$(grep -c '^\[\[derivatives\]\]' "$WITH")
ratios=()
for i in $(seq 1 "$PAIRS"); do
  t0=$(cpu "$BIN" "$PORTFOLIO" 20000 1)
  t1=$(cpu "$BIN" "$WITH" 20000 1)
  r=$(awk -v a="$t1" -v b="$t0" 'BEGIN{printf "%.3f", a/b}')
  ratios+=("$r")
  printf '  pair %s: without %s s, with %s derivatives %s s CPU: ratio %s\n' "$i" "$t0" "$n_dv" "$t1" "$r"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
printf '  median CPU time per deal-step, with / without: %s (%s %% extra; target < 10 %%)\n' \
  "$median" "$(awk -v m="$median" 'BEGIN{printf "%.1f", (m - 1) * 100}')"
if command -v valgrind >/dev/null; then
  irefs_of() {
    valgrind --tool=callgrind --callgrind-out-file="$TMP/cgd.$2" "$BIN" "$1" "$2" 1 2>&1 \
      | sed -n 's/.*I *refs: *//p' | tr -d ','
  }
  per_step() { # marginal instructions per deal-step of portfolio $1 (6000 − 2000 paths)
    local a b
    a=$(irefs_of "$1" 2000)
    b=$(irefs_of "$1" 6000)
    awk -v a="$b" -v b="$a" -v d="$per_path" 'BEGIN{printf "%.1f", (a-b)/(4000*d)}'
  }
  i0=$(per_step "$PORTFOLIO")
  i1=$(per_step "$WITH")
  printf '  instructions per deal-step: without %s, with %s derivatives %s (ratio %s)\n' \
    "$i0" "$n_dv" "$i1" "$(awk -v a="$i1" -v b="$i0" 'BEGIN{printf "%.3f", a/b}')"
fi

if [ "$CRITERION" = 1 ]; then
  echo "== criterion"
  cargo bench -p gaib-simulator --bench throughput
fi
