#!/usr/bin/env bash
# Builds y-sweet 0.9.1 from crates.io into a folder outside the repository (about 8
# minutes on 2 cores). --locked is required: without it the build fails on newer
# dependencies. Idempotent: does nothing when the binary is there.
set -euo pipefail
root="${Y_SWEET_ROOT:-${HOME}/.cache/forankra-bench/y-sweet}"
if [[ -x "$root/bin/y-sweet" ]]; then
  echo "y-sweet already installed at $root/bin/y-sweet"
  exit 0
fi
cargo install y-sweet@0.9.1 --locked --root "$root"
