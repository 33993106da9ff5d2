#!/usr/bin/env bash
# Runs the whole test suite (every package, unit and integration tests) and prints
# "N passed, N failed" as its last line. Integration tests need root (CI runs as root).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/vitest.json
# what the tests need (idempotent: quick when it is there), then the build
bash scripts/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }
pnpm exec vitest run --config vitest.workspace.ts --reporter=default --reporter=json \
  --outputFile.json=test-results/vitest.json "$@"
status=$?
node scripts/test-summary.mjs test-results/vitest.json
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ] || exit 1
