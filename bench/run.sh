#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --only=direct,light,scale,profile,chat,workflow,sse] [-- --sec=N]`:
# Node 24, nginx (Debian package nginx-light, installed when missing), wrk (likewise), the build, the local stack
# (idempotent `scripts/stack.sh up`), then the harness dist/bench/run.js. Loopback only; every
# load run is bounded in time and the harness stops everything it started.
set -euo pipefail
# shellcheck source=../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$REPO_ROOT"

ensure_node
ensure_deps
if ! command -v nginx >/dev/null; then
  [ "$(id -u)" = 0 ] || die "nginx is missing: apt-get install nginx-light (as root)"
  log "installing nginx-light (the harness runs its own nginx; the system service is not used)"
  # policy-rc.d (present on this image) keeps the package's service from starting.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ]; then
  # The closed-loop load generator (C, its own process); without it the harness falls back to autocannon.
  log "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || log "wrk could not be installed; using autocannon"
fi
log "building (gateway, fakes and harness)"
npm run -s build # clears dist/src first: a stale file of an older layout would shadow a new folder
npx tsc -p fakes/tsconfig.json
npx tsc -p bench/tsconfig.json
bash scripts/stack.sh up >/dev/null
load_stack_env
# BENCH_ENTRY=cpu: bench/cpu.sh's tool instead of the full run.
exec node "dist/bench/${BENCH_ENTRY:-run}.js" "$@"
