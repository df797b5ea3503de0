#!/usr/bin/env bash
# Starts y-sweet 0.9.1 (from crates.io, built from source: see install-y-sweet.sh) with its
# filesystem store (the whole document written on a checkpoint, every 10 s while dirty).
#   bench/peers/y-sweet.sh PORT STORE_DIR
# Y_SWEET_BIN overrides where the binary is looked for.
# exec, so the process the harness samples in /proc is y-sweet itself.
set -euo pipefail
bin="${Y_SWEET_BIN:-${HOME}/.cache/forankra-bench/y-sweet/bin/y-sweet}"
if [[ ! -x "$bin" ]]; then
  echo "y-sweet is not installed at $bin: run bench/peers/install-y-sweet.sh" >&2
  exit 3
fi
exec "$bin" serve "$2" --host 127.0.0.1 --port "$1"
