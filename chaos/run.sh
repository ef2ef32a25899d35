#!/usr/bin/env bash
# `npm run chaos [-- --only=kafka,postgres,temporal,auth,worker,replica,chat] [-- --outage-sec=N]`:
# Node 24, the build, the local stack (idempotent `scripts/stack.sh up`), then the fault-injection
# harness dist/chaos/run.js. Loopback only; it stops and starts the stack's services one at a time,
# stops by pid everything it started, and writes docs/reliability-figures.md.
set -euo pipefail
# shellcheck source=../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$REPO_ROOT"

ensure_node
ensure_deps
log "building (gateway, fakes and harness)"
npm run -s build # clears dist/src first: a stale file of an older layout would shadow a new folder
npx tsc -p fakes/tsconfig.json
npx tsc -p chaos/tsconfig.json
bash scripts/stack.sh up >/dev/null
load_stack_env
rc=0
HARNESS_KIND=chaos node dist/chaos/run.js "$@" || rc=$?
# The figures are generated Markdown; keep them as `npm run format:check` wants them.
[ ! -f docs/reliability-figures.md ] || npx prettier --write --log-level warn docs/reliability-figures.md
exit "$rc"
