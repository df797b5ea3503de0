#!/usr/bin/env bash
# Every benchmark scenario in one run: installs what it needs, builds the release
# binaries, runs fan-out (a), connections (b) and cold load + storage (c, d), writes
# bench-results/*.json (git-ignored) and prints the Markdown (also bench-results/report.md).
#
#   bench/run-all.sh                 the full run (about 20 minutes on 2 cores)
#   BENCH_QUICK=1 bench/run-all.sh   a tiny configuration (well under a minute of load) on
#                                    the debug build: proves every scenario still runs with
#                                    the shipped defaults, measures nothing (CI runs it)
#   BENCH_Y_SWEET=1 bench/run-all.sh also builds y-sweet 0.9.1 if missing (~8 minutes);
#                                    without it y-sweet is measured only if installed
#
# Y_SWEET_BIN overrides where the y-sweet binary is looked for; BENCH_RESULTS where the
# results go.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_RESULTS:-bench-results}"
mkdir -p "$out"

echo "== installing the peers (npm ci in bench/peers)" >&2
(cd bench/peers && npm ci --no-audit --no-fund --loglevel=error >&2)
if [[ "${BENCH_Y_SWEET:-0}" == 1 ]]; then
  bench/peers/install-y-sweet.sh >&2
fi

# The quick form measures nothing, so it uses the debug build the tests already made
# (CI runs it after `cargo test`); BENCH_PROFILE=release overrides.
profile="${BENCH_PROFILE:-$([[ "${BENCH_QUICK:-0}" == 1 ]] && echo debug || echo release)}"
echo "== building the $profile binaries" >&2
if [[ "$profile" == release ]]; then
  cargo build --release --locked -p forankra -p forankra-bench >&2
else
  cargo build --locked -p forankra -p forankra-bench >&2
fi
bin_dir="$(cd "${CARGO_TARGET_DIR:-target}/$profile" && pwd)"
bench="$bin_dir/forankra-bench"
ours=(--forankra-bin "$bin_dir/forankra")

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  fanout=(--clients 2,5 --seconds 2)
  connections=(--docs 20 --clients 3 --rate 20 --seconds 2)
  cold=(--limit 5000 --restarts 1)
else
  fanout=(--clients 2,50,200,500 --seconds 20)
  connections=(--docs 1000 --clients 10 --rate 100 --seconds 20)
  cold=(--restarts 3)
fi

{
  echo "# Förankra benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| machine | |"
  echo "| --- | --- |"
  echo "| CPU | $(nproc) × $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1) |"
  echo "| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo "| kernel | $(uname -sr) |"
  echo "| rustc | $(rustc --version) |"
  echo "| node | $(node --version) |"
  echo "| load average at start (1, 5, 15 min) | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo "| build | $profile |"
  echo "| commit | $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)') |"
  echo
  "$bench" fanout "${ours[@]}" "${fanout[@]}" --json "$out/fanout.json"
  echo
  "$bench" connections "${ours[@]}" "${connections[@]}" --json "$out/connections.json"
  echo
  "$bench" cold "${ours[@]}" "${cold[@]}" --json "$out/cold.json"
} | tee "$out/report.md"
