#!/usr/bin/env bash
# Two builds of our server, measured alternately in one run on the same machine, so a
# change can be held to "within 5 %" of what it replaced (issue 19 asked for that).
#
#   bench/compare.sh BASE_BIN NEW_BIN [ROUNDS]
#
# Each round runs, for BASE then NEW: fan-out at 50 and 200 clients (ours and the
# in-process floor, 10 s each), 10,000 connections over 1,000 documents (ours only) and
# the B4 push with cold loads. One bench binary (this checkout's release build) drives
# both, so only the server differs. Reports go to bench-results/compare/ (git-ignored)
# as ROUND-{base,new}-{fanout,connections,cold}.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?the baseline forankra binary}"
new="${2:?the changed forankra binary}"
rounds="${3:-2}"
bench="${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/forankra-bench}"
out="${BENCH_RESULTS:-bench-results}/compare"
mkdir -p "$out"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  for side in base new; do
    bin="$base"; [[ "$side" == new ]] && bin="$new"
    tag="$out/$round-$side"
    echo "== round $round, $side ($bin)" >&2
    "$bench" fanout --forankra-bin "$bin" --targets hub,forankra --clients 50,200 \
      --seconds 10 --json "$tag-fanout.json" > "$tag-fanout.md"
    "$bench" connections --forankra-bin "$bin" --targets forankra --docs 1000 --clients 10 \
      --rate 100 --seconds 10 --json "$tag-connections.json" > "$tag-connections.md"
    "$bench" cold --forankra-bin "$bin" --restarts 3 --json "$tag-cold.json" > "$tag-cold.md"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
