#!/usr/bin/env bash
# Starts the y-websocket reference server (@y/websocket-server, pinned in package.json)
# with its LevelDB persistence (y-leveldb: every update queued for LevelDB as it is
# applied, not awaited before it is relayed).
#   bench/peers/y-websocket.sh PORT DATA_DIR
# exec, so the process the harness samples in /proc is node itself.
set -euo pipefail
cd "$(dirname "$0")"
HOST=127.0.0.1 PORT="$1" YPERSISTENCE="$2" exec node node_modules/@y/websocket-server/src/server.js
