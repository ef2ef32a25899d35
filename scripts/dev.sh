#!/usr/bin/env bash
# The README's run command: brings up the local stack (unless external services are configured),
# applies migrations, starts the worker and the gateway, waits until the gateway is ready and
# prints the URLs. Ctrl-C stops the gateway and the worker (the stack keeps running; stop it
# with `scripts/stack.sh down`).
#
#   scripts/dev.sh            run in the foreground
#   scripts/dev.sh --detach   leave the gateway and the worker running; `scripts/dev.sh stop` stops them
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"
mkdir -p "$STACK_DIR"

PROCS=(worker gateway)
# Without an external auth service, the contract-faithful fake runs on 127.0.0.1:8001 (RS256 + JWKS).
if [ -z "${AUTH_SERVICE_URL:-}" ]; then
  PROCS=(auth-fake worker gateway)
  export AUTH_SERVICE_URL="http://127.0.0.1:${AUTH_FAKE_PORT:-8001}"
  export AUTH_ISSUER="$AUTH_SERVICE_URL/realms/auth-service"
  export AUTH_JWKS_URL="$AUTH_ISSUER/protocol/openid-connect/certs"
fi
# Likewise the billing fake (billing-service.md) on 127.0.0.1:8003, unless BILLING_SERVICE_URL is set.
if [ -z "${BILLING_SERVICE_URL:-}" ]; then
  PROCS=(billing-fake "${PROCS[@]}")
  export BILLING_SERVICE_URL="http://127.0.0.1:${BILLING_FAKE_PORT:-8003}"
fi
# Likewise the chat-service fake on the local Kafka, unless GATEWAY_EXTERNAL_CHAT=1 (a real chat service is attached).
if [ "${GATEWAY_EXTERNAL_CHAT:-}" != "1" ]; then PROCS=(chat-fake "${PROCS[@]}"); fi

stop_procs() {
  for name in gateway worker auth-fake billing-fake chat-fake; do
    local file="$STACK_DIR/$name.pid" pid
    pid="$(cat "$file" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
  done
}

# Fails at once, naming the port, when something else holds a port one of ours must listen on:
# otherwise that process dies at start and the wait for readiness below runs out its minute.
check_ports() {
  local taken=() spec name host port
  for spec in "$@"; do
    IFS='|' read -r name host port <<<"$spec"
    if ! node -e 'const s = require("net").createServer();
      s.once("error", () => process.exit(1));
      s.listen(Number(process.argv[2]), process.argv[1], () => s.close(() => process.exit(0)));' "$host" "$port"; then
      taken+=("$port ($name on $host)")
    fi
  done
  if [ ${#taken[@]} -gt 0 ]; then
    die "port already in use: ${taken[*]}. Stop what listens there (ss -ltnp) or choose another port (PORT, AUTH_FAKE_PORT)."
  fi
}

if [ "${1:-}" = "stop" ]; then stop_procs; exit 0; fi

ensure_node
# Our own processes from an earlier run hold these ports: stop them before checking.
stop_procs
ports=("gateway, PORT|${HOST:-127.0.0.1}|${PORT:-8002}")
case " ${PROCS[*]} " in *" auth-fake "*) ports+=("auth-service fake, AUTH_FAKE_PORT|${AUTH_FAKE_HOST:-127.0.0.1}|${AUTH_FAKE_PORT:-8001}") ;; esac
check_ports "${ports[@]}"
ensure_deps
bash scripts/stack.sh up >/dev/null
load_stack_env

export NODE_ENV="${NODE_ENV:-development}"
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8002}"
export ADMIN_PORT="${ADMIN_PORT:-9002}"
export COOKIE_SECURE="${COOKIE_SECURE:-false}"

log "building"
npm run -s build
# The upstream fakes live outside the product build (fakes/tsconfig.json).
case " ${PROCS[*]} " in *"-fake "*) npm run -s build:fakes ;; esac
log "applying migrations"
node dist/src/db/migrate.js

# The worker and the gateway get the memory settings of the container image (Dockerfile: ENV
# NODE_OPTIONS, MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_; keep the two in sync), so RSS here matches production. An
# outer NODE_OPTIONS is appended (later flags win); the fakes run with Node's defaults.
RUNTIME_NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=8"

for name in "${PROCS[@]}"; do
  runtime_env=()
  case "$name" in
    worker) entry=dist/src/workers/main.js ;;
    gateway) entry=dist/src/api/server.js ;;
    auth-fake) entry=dist/fakes/auth/main.js ;;
    chat-fake) entry=dist/fakes/chat/main.js ;;
    billing-fake) entry=dist/fakes/billing/main.js ;;
  esac
  case "$name" in
    worker | gateway)
      runtime_env=(
        "NODE_OPTIONS=$RUNTIME_NODE_OPTIONS${NODE_OPTIONS:+ $NODE_OPTIONS}"
        "MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}"
        "MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-16384}"
      )
      ;;
  esac
  log "starting $name (log: $STACK_DIR/$name.log)"
  nohup env ${runtime_env[@]+"${runtime_env[@]}"} node "$entry" >>"$STACK_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/$name.pid"
done

ready_url="http://127.0.0.1:$PORT/health/ready"
for _ in $(seq 1 120); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$ready_url"; then break; fi
  for name in "${PROCS[@]}"; do
    kill -0 "$(cat "$STACK_DIR/$name.pid")" 2>/dev/null || { tail -n 20 "$STACK_DIR/$name.log" >&2; die "$name exited"; }
  done
  sleep 0.5
done
node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$ready_url" || die "gateway not ready: $ready_url"

cat <<INFO

  Gateway        http://127.0.0.1:$PORT
  API docs       http://127.0.0.1:$PORT/docs
  Readiness      http://127.0.0.1:$PORT/health/ready
  Metrics        http://127.0.0.1:$ADMIN_PORT/metrics (admin listener)
  Internal docs  http://127.0.0.1:$ADMIN_PORT/docs
  Temporal UI    ${TEMPORAL_UI_URL:-(external Temporal: $TEMPORAL_ADDRESS)}
  Temporal       $TEMPORAL_ADDRESS
  Kafka          $KAFKA_BOOTSTRAP_SERVERS
  PostgreSQL     $(printf %s "$DATABASE_URL" | sed -E 's#//([^:/@]+):[^@]*@#//\1:***@#')
  Auth service   $AUTH_SERVICE_URL$(case " ${PROCS[*]} " in *" auth-fake "*) echo " (local fake)" ;; esac)
  Billing        $BILLING_SERVICE_URL$(case " ${PROCS[*]} " in *" billing-fake "*) echo " (local fake)" ;; esac)
  Chat service   $(case " ${PROCS[*]} " in *" chat-fake "*) echo "local fake on Kafka" ;; *) echo "external, over Kafka" ;; esac)
  Logs           $STACK_DIR/gateway.log, $STACK_DIR/worker.log

INFO

if [ "${1:-}" = "--detach" ]; then
  log "running in the background; stop with: scripts/dev.sh stop"
  exit 0
fi
trap 'stop_procs; exit 0' INT TERM
log "press Ctrl-C to stop the gateway and the worker"
while :; do
  for name in "${PROCS[@]}"; do
    kill -0 "$(cat "$STACK_DIR/$name.pid" 2>/dev/null)" 2>/dev/null || { log "$name exited; see $STACK_DIR/$name.log"; stop_procs; exit 1; }
  done
  sleep 1 &
  wait $! || true
done
