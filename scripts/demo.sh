#!/usr/bin/env bash
# The demo: installs what it needs, builds, and runs `tierback demo` on a sandbox partition.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh demo
npx tsc -p tsconfig.json
exec node build/cli/tierback.js demo "$@"
