#!/usr/bin/env bash
# Every benchmark scenario in one run: installs what it needs, builds the release
# binaries, runs fan-out (a), connections (b), cold load + storage (c, d), the crowd
# (1,000 clients in one document), the sync storm, the two-node PostgreSQL cluster and
# the comment load, writes bench-results/*.json (git-ignored) and prints the Markdown
# (also bench-results/report.md). Every scenario ends its section with the server limits
# it set.
#
#   bench/run-all.sh                 the full run (about 35 minutes on 2 cores: fan-out
#                                    ~8, connections ~5, cold ~4, crowd ~6, storm ~5,
#                                    cluster ~3, comments ~1)
#   BENCH_QUICK=1 bench/run-all.sh   a tiny configuration (about a minute of load) on
#                                    the debug build: proves every scenario still runs
#                                    with the shipped defaults, measures nothing (CI runs it)
#   BENCH_Y_SWEET=1 bench/run-all.sh also builds y-sweet 0.9.1 if missing (~8 minutes);
#                                    without it y-sweet is measured only if installed
#
# Y_SWEET_BIN overrides where the y-sweet binary is looked for; BENCH_RESULTS where the
# results go; BENCH_DATABASE_URL the PostgreSQL the cluster scenario makes its database
# next to (else TEST_DATABASE_URL; else postgres://postgres@127.0.0.1:5432/test, and the
# quick form skips the cluster); BENCH_TRACE the B4 trace
# (default: shared/data/automerge-paper.json.gz beside the checkout).
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

# The cluster scenario needs a PostgreSQL: the quick form skips it (with a note) when
# neither BENCH_DATABASE_URL nor TEST_DATABASE_URL names one; CI sets the latter.
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-}}"
run_cluster=1
if [[ -z "$BENCH_DATABASE_URL" ]]; then
  if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    run_cluster=0
  else
    export BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
  fi
fi

trace=()
if [[ -n "${BENCH_TRACE:-}" ]]; then
  trace=(--trace "$BENCH_TRACE")
fi

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  fanout=(--clients 2,5 --seconds 1)
  connections=(--docs 20 --clients 3 --rate 20 --seconds 1)
  cold=(--limit 5000 --restarts 1)
  crowd=(--clients 20 --writers 1,4 --seconds 1 --targets forankra)
  storm=(--chars 200000 --chunk-chars 50000 --resyncers 4 --seconds 1 --targets forankra)
  cluster=(--edits 100 --far-clients 10 --documents 2 --updates 200 --trace-limit 5000)
  comments=(--orgs 5 --editors 10 --comment-rate 10 --edit-rate 20 --seconds 1)
else
  fanout=(--clients 2,50,200,500 --seconds 20)
  connections=(--docs 1000 --clients 10 --rate 100 --seconds 20)
  cold=(--restarts 3)
  crowd=(--clients 1000 --writers 1,20 --seconds 20)
  storm=(--chars 8000000 --resyncers 8 --seconds 20)
  cluster=(--edits 1000 --far-clients 50)
  comments=(--orgs 50 --editors 200 --comment-rate 20 --seconds 20)
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
  "$bench" cold "${ours[@]}" "${cold[@]}" "${trace[@]}" --json "$out/cold.json"
  echo
  "$bench" crowd "${ours[@]}" "${crowd[@]}" --json "$out/crowd.json"
  echo
  "$bench" storm "${ours[@]}" "${storm[@]}" --json "$out/storm.json"
  echo
  if [[ "$run_cluster" == 1 ]]; then
    "$bench" cluster "${cluster[@]}" "${trace[@]}" --json "$out/cluster.json"
  else
    echo "## cluster: not run (no PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL)"
  fi
  echo
  "$bench" comments "${comments[@]}" --json "$out/comments.json"
} | tee "$out/report.md"
