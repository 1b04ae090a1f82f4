#!/usr/bin/env bash
# Throughput and memory of the CPU Monte Carlo backend on the sample portfolio.
# Prints deal-steps/s (paths × deals × months / s) at 1 thread and at all threads, and the peak
# RSS at 1e4 and 1e6 paths side by side with their ratio (target: ≤ 1.2).
# Not run in CI. Usage: scripts/bench.sh [--quick]   (--quick: 1e5 instead of 1e6 paths)
#                       scripts/bench.sh --criterion  (also run the criterion benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."

PORTFOLIO=data/portfolios/sample.toml
BIG=1000000
CRITERION=0
for a in "$@"; do
  case "$a" in
    --quick) BIG=100000 ;;
    --criterion) CRITERION=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

cargo build --release --quiet -p gaib-simulator --example throughput
BIN=target/release/examples/throughput
ALL=$(nproc)

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "== throughput, sample portfolio, 20000 paths"
one=$("$BIN" "$PORTFOLIO" 20000 1)
all=$("$BIN" "$PORTFOLIO" 20000 "$ALL")
r1=$(echo "$one" | field deal_steps_per_s)
ra=$(echo "$all" | field deal_steps_per_s)
printf '  1 thread : %s deal-steps/s\n' "$r1"
printf '  %s threads: %s deal-steps/s  (%s per core; speed-up %s×; target ≥ 2e7 per core)\n' \
  "$ALL" "$ra" "$(awk -v a="$ra" -v n="$ALL" 'BEGIN{printf "%.3e", a/n}')" \
  "$(awk -v a="$ra" -v b="$r1" 'BEGIN{printf "%.2f", a/b}')"

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

if [ "$CRITERION" = 1 ]; then
  echo "== criterion"
  cargo bench -p gaib-simulator --bench throughput
fi
