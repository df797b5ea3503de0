#!/usr/bin/env bash
# Starts Hocuspocus (@hocuspocus/server, pinned in package.json) with its SQLite extension.
#   bench/peers/hocuspocus.sh PORT DB_FILE
# exec, so the process the harness samples in /proc is node itself.
set -euo pipefail
cd "$(dirname "$0")"
exec node hocuspocus.mjs "$1" "$2"
