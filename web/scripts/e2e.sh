#!/usr/bin/env bash
# End-to-end tests of the web app against the real server, in Debian's headless Chromium.
#   npm run e2e [-- playwright test arguments]
# Needs the server built first (`cargo build` in the repository root: ../target/debug/forankra,
# or FORANKRA_BIN). Installs Debian's chromium if it is missing (never a downloaded browser),
# builds web/dist, then runs @playwright/test; e2e/global-setup.ts starts the server.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH

if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "==> $CHROMIUM_PATH is missing: installing Debian's chromium package"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y chromium
fi
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "error: no Chromium at $CHROMIUM_PATH (set CHROMIUM_PATH to a Chromium binary)" >&2
  exit 1
fi

SERVER_BIN="${FORANKRA_BIN:-../target/debug/forankra}"
if [ ! -x "$SERVER_BIN" ]; then
  echo "error: the server binary $SERVER_BIN is missing." >&2
  echo "       Build it first: (cd .. && cargo build), or set FORANKRA_BIN." >&2
  exit 1
fi

echo "==> npm run build"
npm run build --silent

echo "==> playwright test (Chromium: $CHROMIUM_PATH, server: $SERVER_BIN)"
exec npx playwright test "$@"
