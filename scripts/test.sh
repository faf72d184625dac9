#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs Node's test runner.
#   npm test             all tests (unit + integration with real rsync, sshd, MariaDB, PostgreSQL, git, cvs)
#   npm test -- --unit   unit tests only (no system packages needed beyond Node)
set -euo pipefail
cd "$(dirname "$0")/.."
scope=all
[ "${1:-}" = --unit ] && scope=unit
if [ "$scope" = unit ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
else
  bash scripts/install-deps.sh test
fi
rm -rf build
npx tsc -p tsconfig.json
# The layers rule (.dependency-cruiser.cjs, docs/architecture.md) on the TypeScript sources.
npx depcruise lib cli --config .dependency-cruiser.cjs --output-type err
if [ "$scope" = unit ]; then dirs=(build/test/unit); else dirs=(build/test/unit build/test/integration); fi
mapfile -t files < <(find "${dirs[@]}" -name '*.test.js' 2>/dev/null | sort)
exec node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
