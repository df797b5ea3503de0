#!/usr/bin/env bash
# Profiles our server (the child process the harness starts) under one scenario with
# perf, and prints the functions that take its CPU time, self time first.
#
#   bench/profile.sh fanout   one writer at 50 updates/s to 200 clients, 20 s
#   bench/profile.sh ingest   the B4 trace pushed update by update (the cold scenario)
#
# Needs `perf` (Debian: apt-get install linux-perf) and `perf stat -e instructions true`
# to work; run bench/run-all.sh (or the release build) first. Writes
# bench-results/perf-<scenario>.data and bench-results/perf-<scenario>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-fanout}"
out="${BENCH_RESULTS:-bench-results}"
mkdir -p "$out"
bench=target/release/forankra-bench
log="$out/profile-$scenario.log"

case "$scenario" in
  fanout) "$bench" load --target forankra --clients 200 --rate 50 --seconds 20 >"$log" 2>&1 & seconds=20 ;;
  ingest) "$bench" cold --restarts 1 >"$log" 2>&1 & seconds=40 ;;
  *) echo "usage: $0 fanout|ingest" >&2; exit 2 ;;
esac
run=$!

# The harness prints "started …/forankra (pid N)" once the server listens.
pid=""
for _ in $(seq 1 600); do
  pid=$(grep -o 'forankra (pid [0-9]*' "$log" | grep -o '[0-9]*$' | head -1 || true)
  [[ -n "$pid" ]] && break
  sleep 0.1
done
if [[ -z "$pid" ]]; then
  echo "the server did not start; see $log" >&2
  kill "$run" 2>/dev/null || true
  exit 1
fi
# Let the clients connect (fanout) or the push begin (ingest) before sampling.
sleep 3
perf record -F 499 --call-graph dwarf,16384 -p "$pid" -o "$out/perf-$scenario.data" -- sleep "$seconds" >/dev/null 2>&1 || true  # perf ends its sleep early (SIGTERM) when the server exits
wait "$run"
{
  echo "## perf: our server under '$scenario', self time"
  perf report -i "$out/perf-$scenario.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | grep '%' | head -30 | cut -c1-140
  echo
  echo "## perf: our server under '$scenario', with callees (children)"
  perf report -i "$out/perf-$scenario.data" --children --sort symbol --stdio -g none 2>/dev/null \
    | grep '%' | head -40 | cut -c1-160
} | tee "$out/perf-$scenario.txt"
