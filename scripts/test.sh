#!/usr/bin/env bash
# The whole test suite on a fresh machine: fetches Node 24 if needed, installs dependencies,
# lints, type-checks, builds, brings up the local stack (PostgreSQL, Kafka, Temporal) and runs
# every jest test against it. Extra arguments go to jest (e.g. a file pattern).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"
started=$SECONDS

ensure_node
ensure_deps
log "node $(node --version); lint, format check, typecheck, build (product and fakes)"
npm run -s lint
npm run -s format:check
npm run -s typecheck
npm run -s build
npm run -s build:fakes

bash scripts/stack.sh up >/dev/null
load_stack_env

results="$STACK_DIR/jest-results.json"
rm -f "$results"
rc=0
npx jest --runInBand --ci --json --outputFile="$results" "$@" || rc=$?

# A plain closing line that any CI reads, whatever the test runner.
if [ -f "$results" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${skipped} skipped`);
  ' "$results"
else
  echo "jest: 0 passed, 1 failed"
  rc=1
fi

if [ "${CI:-}" = "true" ]; then bash scripts/stack.sh down >/dev/null 2>&1 || true; fi
log "test run took $((SECONDS - started))s"
exit $rc
